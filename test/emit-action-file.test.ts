import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { renderActionFile, type ActionGrouping } from '../src/emit/action-file.js';
import { ACTION_MAX_LINE_BYTES, literalPathPattern, quoteActionArgument } from '../src/formats/action-file.js';
import { fileBytes } from './helpers/sample-tree.js';
import { rdStat } from './helpers/squashfs-tools.js';

const NO_FRAGMENT = 0xffffffff;

/** Every regular file under root, relative, in no particular order. */
function walk(root: string, dir = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(root, dir))) {
    const rel = dir === '' ? name : `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) out.push(...walk(root, rel));
    else out.push(rel);
  }
  return out;
}

/** Builds with the action file; with `log`, returns mksquashfs's log of every evaluation. */
function build(src: string, img: string, actions: string, log = false): string {
  return execFileSync('mksquashfs', [src, img, '-noappend', '-no-progress', log ? '-log-action-file' : '-action-file', actions, ...(log ? [] : ['-quiet'])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

/** Files of the image stored without a fragment. */
function unfragmented(img: string, files: readonly string[]): Set<string> {
  return new Set(files.filter((rel) => rdStat(img, `/${rel}`).fragmentIndex === NO_FRAGMENT));
}

// Awkward names, each with a decoy that the name would match as an unescaped glob or an unquoted string.
const AWKWARD: [string, string | undefined][] = [
  ['with space', undefined],
  ['tab\there', undefined],
  ['#hash', undefined],
  ['paren(s)', undefined],
  ['close)paren', undefined],
  ['quote"d', undefined],
  ["apos'", undefined],
  ['star*', 'starry'],
  ['q?mark', 'qXmark'],
  ['br[ack]et', 'braet'],
  ['back\\slash', 'backslash'],
  ['ünïcødé €', undefined],
  ['at@(sign)', 'atsign'],
  ['plus+(x)', 'plusx'],
  ['bang!(y)', 'bangz'],
  ['amp&&or||not!', undefined],
  ['comma,x', undefined],
  ['ends-with-backslash\\', undefined],
];

function makeTree(root: string): { listed: string[]; decoys: string[]; newline: string } {
  const dirs = ['d', 'usr/lib/x86_64-linux-gnu', 'deep/only/child/chain', 'odd dir (1)*', 'odd dirX (1)'];
  for (const d of dirs) mkdirSync(join(root, d), { recursive: true });
  let seed = 1;
  const put = (rel: string): string => {
    writeFileSync(join(root, rel), fileBytes(seed++, 600 + seed * 13));
    return rel;
  };
  const listed: string[] = [];
  const decoys: string[] = [];
  for (const [name, decoy] of AWKWARD) {
    listed.push(put(`d/${name}`));
    if (decoy !== undefined) decoys.push(put(`d/${decoy}`));
  }
  listed.push(put('usr/lib/x86_64-linux-gnu/libc.so.6'), put('deep/only/child/chain/f'), put('top-level'), put('odd dir (1)*/x'));
  decoys.push(put('usr/lib/x86_64-linux-gnu/libm.so.6'), put('odd dirX (1)/x'), put('top-level2'), put('d/unlisted'));
  const newline = put('d/new\nline');
  return { listed, decoys, newline };
}

t.test('the quoting follows action.c and fnmatch', (t) => {
  const pat = (rel: string): string => {
    const r = literalPathPattern(rel);
    return r.ok ? r.pattern : `!${r.why}`;
  };
  t.equal(pat('usr/bin/bash'), '/usr/bin/bash');
  t.equal(pat('a*b?c[d]e\\f'), '/a\\*b\\?c\\[d\\]e\\\\f');
  t.equal(pat('x@(y)+(z)!(w)'), '/x\\@(y)\\+(z)\\!(w)');
  t.match(pat('a\nb'), /^!a newline/);
  t.equal(quoteActionArgument('/a "b"\\c'), '"/a \\"b\\"\\\\c"');
  t.end();
});

for (const grouping of ['tree', 'per-file'] as ActionGrouping[]) {
  t.test(`mksquashfs 4.5 stores exactly the listed files without a fragment (${grouping})`, (t) => {
    const dir = t.testdir();
    const src = join(dir, 'src');
    mkdirSync(src);
    const { listed, decoys, newline } = makeTree(src);
    const entries = [...listed, newline, listed[0]!].map((rel) => ({ rel, path: `/${rel}` }));
    const res = renderActionFile(entries, { action: 'no-fragments', grouping });
    t.equal(res.written, listed.length, 'each listed file once');
    t.same(
      res.dropped.map((d) => [d.path, d.reason]),
      [[`/${newline}`, 'unrepresentable']],
      'the name with a newline is reported',
    );
    t.match(res.dropped[0]!.detail, /newline/);
    if (grouping === 'per-file') t.equal(res.text.split('\n').length - 1, listed.length, 'one line per file');
    const actions = join(dir, 'actions');
    writeFileSync(actions, res.text);
    const img = join(dir, 'img.sqfs');
    const log = build(src, img, actions, true);
    t.match(log, /=True/, 'mksquashfs logged its matches');
    const all = walk(src);
    t.equal(all.length, listed.length + decoys.length + 1);
    const got = unfragmented(img, all);
    t.same([...got].sort(), [...listed].sort(), 'exactly the listed files have no fragment');
    for (const d of [...decoys, newline]) t.notOk(got.has(d), `${JSON.stringify(d)} still uses a fragment`);

    // Without the action file every one of these small files is in a fragment.
    const plain = join(dir, 'plain.sqfs');
    execFileSync('mksquashfs', [src, plain, '-noappend', '-no-progress', '-quiet']);
    t.equal(unfragmented(plain, all).size, 0, 'the same tree without actions: all in fragments');
    t.end();
  });
}

t.test('long expressions are split over continuation lines under mksquashfs\'s line limit', (t) => {
  const dir = t.testdir();
  const src = join(dir, 'src');
  const long = 'a-rather-long-directory-name-to-fill-lines'.repeat(3);
  mkdirSync(join(src, long), { recursive: true });
  const listed: string[] = [];
  const others: string[] = [];
  for (let i = 0; i < 900; i++) {
    const rel = `${long}/lib-with-a-long-name-${String(i).padStart(4, '0')}.so`;
    writeFileSync(join(src, rel), fileBytes(1000 + i, 64 + (i % 50)));
    (i % 3 === 0 ? others : listed).push(rel);
  }
  const res = renderActionFile(
    listed.map((rel) => ({ rel, path: `/${rel}` })),
    { action: 'no-fragments' },
  );
  const physical = res.text.split('\n').slice(0, -1);
  t.ok(physical.length > 3, `${physical.length} physical lines`);
  t.ok(Buffer.byteLength(res.text) > ACTION_MAX_LINE_BYTES, 'longer than one line could be');
  for (const line of physical) t.ok(Buffer.byteLength(line) + 1 < ACTION_MAX_LINE_BYTES, 'each line under the limit');
  const actions = join(dir, 'actions');
  writeFileSync(actions, res.text);
  const img = join(dir, 'img.sqfs');
  build(src, img, actions);
  const got = unfragmented(img, [...listed, ...others]);
  t.same([...got].sort(), [...listed].sort());
  t.ok(readFileSync(actions, 'utf8').startsWith('no-fragments@'));
  t.end();
});

t.test('nothing to write gives an empty file', (t) => {
  t.same(renderActionFile([], { action: 'no-fragments' }), { text: '', written: 0, dropped: [] });
  t.end();
});
