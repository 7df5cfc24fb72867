import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { renderGensquashfsSort } from '../src/emit/gensquashfs-sort.js';
import { gensquashfsName } from '../src/formats/gensquashfs-sort.js';
import { fileBytes } from './helpers/sample-tree.js';
import { rdStat, type RdStat } from './helpers/squashfs-tools.js';

const NO_FRAGMENT = 0xffffffff;
const BLOCK = 4096;

function gensquashfs(src: string, sort: string, img: string): string {
  return execFileSync('gensquashfs', ['--pack-dir', src, '--sort-file', sort, '--block-size', String(BLOCK), '--num-jobs', '1', '--force', '--quiet', img], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Where a file's data starts: its first block, or its fragment (index, offset) when it has no block. */
function position(st: RdStat): [number, number] {
  if (st.blocks.length > 0) return [st.blocksStart ?? -1, 0];
  return [st.fragmentIndex ?? -1, st.fragmentOffset ?? 0];
}
const before = (a: [number, number], b: [number, number]): boolean => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);

// Names that must be written literally: gensquashfs compares with strcmp, no glob without [glob].
const NAMES = ['with space', 'tab\there', '#hash', 'paren(s)', 'quote"d', "apos'", 'star*', 'q?mark', '[bracket', 'back\\slash', 'ünïcødé', 'mid "quote'];

function makeTree(src: string): { small: string[]; big: string[]; unlisted: string[]; bad: string[] } {
  mkdirSync(join(src, 'd'), { recursive: true });
  mkdirSync(join(src, 'usr/bin'), { recursive: true });
  let seed = 1;
  const put = (rel: string, size: number): string => {
    writeFileSync(join(src, rel), fileBytes(seed++, size));
    return rel;
  };
  // '[top' starts the line's name: written after an explicit flag list.
  const small = [...NAMES.map((n, i) => put(`d/${n}`, 300 + i * 41)), put('[top', 333), put('[top2', 344)];
  const big = [put('usr/bin/big1', 3 * BLOCK + 100), put('usr/bin/big2', 2 * BLOCK + 7), put('usr/bin/big3', 5 * BLOCK)];
  const unlisted = [put('d/star', 500), put('d/unlisted', 700), put('usr/bin/unlisted-big', 2 * BLOCK + 1)];
  const bad = [put('d/new\nline', 400), put('d/trailing ', 400), put('"top-quote', 400), put(' lead-space', 400)];
  return { small, big, unlisted, bad };
}

t.test('names: bare, with an explicit flag list before "[", the rest reported', (t) => {
  t.same(gensquashfsName('d/with space'), { ok: true, text: 'd/with space' });
  t.same(gensquashfsName('/usr//bin/bash'), { ok: true, text: 'usr/bin/bash' });
  t.match(gensquashfsName('"x'), { ok: false, why: /quoted/ });
  t.match(gensquashfsName('x '), { ok: false, why: /whitespace/ });
  t.match(gensquashfsName('a\nb'), { ok: false, why: /newline/ });
  t.match(gensquashfsName('a/../b'), { ok: false });
  const r = renderGensquashfsSort(
    [
      { rel: '[x', path: '/[x' },
      { rel: 'y', path: '/y' },
    ],
    { placement: 'beginning', dontFragment: new Set(['y', 'z']) },
  );
  t.equal(r.text, '-2 [] [x\n-1 [dont_fragment] y\n0 [dont_fragment] z\n');
  t.equal(r.written, 3);
  const end = renderGensquashfsSort([{ rel: 'a', path: '/a' }, { rel: 'b', path: '/b' }, { rel: 'a', path: '/a' }], { placement: 'end', dontFragment: new Set() });
  t.equal(end.text, '1 a\n2 b\n', 'end: after the unlisted files (0); a repeated path keeps its first place');
  t.end();
});

for (const placement of ['beginning', 'end'] as const) {
  t.test(`gensquashfs packs the files in the order given, [dont_fragment] ones without a fragment (${placement})`, (t) => {
    const dir = t.testdir();
    const src = join(dir, 'src');
    const { small, big, unlisted, bad } = makeTree(src);
    // An order unlike the walk: interleave big and small files, reversed.
    const order = [...small.slice(6), big[2]!, ...small.slice(0, 6).reverse(), big[0]!, big[1]!, ...bad];
    const dontFragment = new Set(small.filter((_, i) => i % 3 === 0));
    const res = renderGensquashfsSort(
      order.map((rel) => ({ rel, path: `/${rel}` })),
      { placement, dontFragment },
    );
    t.same(
      res.dropped.map((d) => d.path).sort(),
      bad.map((b) => `/${b}`).sort(),
      'the names gensquashfs cannot read back are reported',
    );
    for (const d of res.dropped) t.equal(d.reason, 'unrepresentable');
    t.equal(res.written, order.length - bad.length);
    const sort = join(dir, 'sort');
    writeFileSync(sort, res.text);
    const img = join(dir, 'img.sqfs');
    const out = gensquashfs(src, sort, img);
    t.notMatch(out, /no match/, 'every line names a file');

    const written = order.filter((rel) => !bad.includes(rel));
    const st = new Map(written.map((rel) => [rel, rdStat(img, `/${rel}`)]));
    for (const rel of written) {
      const f = st.get(rel)!;
      if (dontFragment.has(rel)) t.equal(f.fragmentIndex, NO_FRAGMENT, `${JSON.stringify(rel)}: [dont_fragment] has no fragment`);
      else if (small.includes(rel)) t.not(f.fragmentIndex, NO_FRAGMENT, `${JSON.stringify(rel)}: still in a fragment`);
    }
    // Block-stored files in the order given, and fragment-stored files in the order given.
    for (const kind of ['blocks', 'fragment'] as const) {
      const seq = written.filter((rel) => (st.get(rel)!.blocks.length > 0) === (kind === 'blocks'));
      t.ok(seq.length >= 3, `${seq.length} ${kind} files`);
      for (let i = 1; i < seq.length; i++) {
        t.ok(before(position(st.get(seq[i - 1]!)!), position(st.get(seq[i]!)!)), `${kind}: ${JSON.stringify(seq[i - 1])} before ${JSON.stringify(seq[i])}`);
      }
    }
    // Unlisted files (priority 0) come after the listed ones ('beginning') or before them ('end').
    const bigUnlisted = position(rdStat(img, `/${unlisted[2]!}`));
    const listedBlocks = written.filter((rel) => st.get(rel)!.blocks.length > 0).map((rel) => position(st.get(rel)!));
    for (const p of listedBlocks) t.ok(placement === 'beginning' ? before(p, bigUnlisted) : before(bigUnlisted, p), `unlisted big file at ${bigUnlisted.join(":")} on the ${placement === "beginning" ? "far" : "near"} side of ${p.join(":")}`);
    for (const u of unlisted.slice(0, 2)) t.not(rdStat(img, `/${u}`).fragmentIndex, NO_FRAGMENT, `${u}: unlisted small file keeps its fragment`);
    t.end();
  });
}
