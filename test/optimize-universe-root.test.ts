/**
 * universeFromRoot reads a tree the way mksquashfs will: its compression samples (deflate of each
 * profiled file's first 16 KiB, up to 32 MiB in all, in profile order) and the unprofiled identical
 * copies of profiled files. Both are checked here against the plain way of doing them: one
 * deflateRawSync per file, and a SHA-256 of every same-sized file.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { bootsFromTraces } from '../src/optimize/boots.js';
import { selectProfile } from '../src/optimize/inputs.js';
import { optimizerInput } from '../src/optimize/sort-plan.js';
import { universeFromRoot } from '../src/optimize/universe.js';
import { compileExcludes, DEFAULT_EXCLUDES, normalizePath } from '../src/profile/filters.js';
import { HostTree } from '../src/tree/host-tree.js';
import { resolveRegularFile } from '../src/tree/resolve.js';
import { mulberry32 } from '../src/sim/prng.js';

const SAMPLE = 16384;
const BUDGET = 32 << 20;

function write(root: string, rel: string, bytes: Buffer): void {
  mkdirSync(dirname(join(root, rel)), { recursive: true });
  writeFileSync(join(root, rel), bytes);
}

t.test('compression samples: the ratios one deflateRawSync per file gives, cut at 32 MiB in profile order', (t) => {
  const root = t.testdir();
  const random = mulberry32(99);
  const rels: string[] = [];
  // 2,800 files of up to 40 KiB: more than 32 MiB of samples, several 4 MiB batches
  for (let i = 0; i < 2800; i++) {
    const r = random();
    const size = r < 0.03 ? 0 : r < 0.6 ? SAMPLE + Math.floor(random() * 24000) : 1 + Math.floor(random() * SAMPLE);
    const line = `${i} some text of file ${i} ${Math.floor(random() * 1000)}\n`;
    const bytes = random() < 0.2 ? Buffer.from(Array.from({ length: size }, () => Math.floor(random() * 256))) : Buffer.from(line.repeat(Math.ceil(size / line.length) + 1).slice(0, size));
    const rel = `d${i % 13}/f${i}`;
    write(root, rel, bytes);
    rels.push(rel);
  }
  // the profile's order, not the walk's
  const order = [...rels].sort(() => random() - 0.5);
  const u = universeFromRoot(root, order);

  let sampledRaw = 0;
  let sampledPacked = 0;
  const want = new Map<string, number>();
  for (const rel of order) {
    const bytes = readFileSync(join(root, rel));
    if (sampledRaw >= BUDGET || bytes.length === 0) continue;
    const sample = bytes.subarray(0, Math.min(bytes.length, SAMPLE));
    const packed = Math.min(sample.length, deflateRawSync(sample, { level: 6 }).length);
    sampledRaw += sample.length;
    sampledPacked += packed;
    want.set(rel, packed / sample.length);
  }
  const mean = sampledPacked / sampledRaw;
  t.ok(want.size < order.length - 50, `the 32 MiB cut falls inside the profile (${want.size} of ${order.length} sampled)`);
  let same = 0;
  for (const f of u.files) {
    const expected = want.get(f.rel) ?? mean;
    if (Object.is(f.ratio, expected)) same++;
    else t.equal(f.ratio, expected, f.rel);
  }
  t.equal(same, order.length, 'every file has the ratio of its own sample, or the mean when past the cut');
  t.equal(u.rest.ratio, mean, 'the rest of the tree gets the mean');
  t.end();
});

t.test('identical copies: the files a SHA-256 of every same-sized file finds', (t) => {
  const root = t.testdir();
  const random = mulberry32(3);
  const big = Buffer.from(Array.from({ length: 200_000 }, () => Math.floor(random() * 256)));
  const lastByte = Buffer.from(big);
  lastByte[lastByte.length - 1] = lastByte[lastByte.length - 1]! ^ 1;
  const at70k = Buffer.from(big);
  at70k[70_000] = at70k[70_000]! ^ 1;
  const conf = Buffer.from('key=value\n'.repeat(30));
  const other = Buffer.from('key=other\n'.repeat(30));
  write(root, 'etc/big.bin', big);
  write(root, 'etc/conf', conf);
  write(root, 'usr/share/copy/big.bin', big); // a twin, past the first 64 KiB chunk
  write(root, 'usr/share/copy/last-byte.bin', lastByte); // differs in its last byte
  write(root, 'usr/share/copy/at70k.bin', at70k); // differs in the second chunk
  write(root, 'usr/share/copy/conf', conf); // a twin
  write(root, 'usr/share/copy/conf-other', other); // same size, other bytes
  write(root, 'usr/share/copy/conf-again', conf); // a second twin
  linkSync(join(root, 'etc/conf'), join(root, 'usr/share/conf-link')); // a hardlink is not a copy
  write(root, 'empty-a', Buffer.alloc(0));
  write(root, 'empty-b', Buffer.alloc(0));
  const profiled = ['etc/conf', 'etc/big.bin', 'empty-a'];
  const u = universeFromRoot(root, profiled);

  const digest = (rel: string): string => createHash('sha256').update(readFileSync(join(root, rel))).digest('hex');
  const all = ['etc/big.bin', 'etc/conf', 'usr/share/copy/big.bin', 'usr/share/copy/last-byte.bin', 'usr/share/copy/at70k.bin', 'usr/share/copy/conf', 'usr/share/copy/conf-other', 'usr/share/copy/conf-again'];
  for (const rel of profiled) {
    const f = u.files[u.byRel.get(rel)!]!;
    const expected = f.size === 0 ? [] : all.filter((o) => o !== rel && !profiled.includes(o) && readFileSync(join(root, o)).length === f.size && digest(o) === digest(rel)).sort();
    t.same([...(f.twins ?? [])].sort(), expected, `${rel}: ${expected.join(', ') || 'no copies'}`);
  }
  t.same(u.files[u.byRel.get('etc/conf')!]!.twins?.sort(), ['usr/share/copy/conf', 'usr/share/copy/conf-again'], 'the check above found both copies of etc/conf');
  t.end();
});

t.test('boots: each event path goes to the planned file that resolving it in the tree gives', (t) => {
  const root = t.testdir();
  write(root, 'usr/lib/libc.so.6', Buffer.from('libc'.repeat(100)));
  write(root, 'usr/bin/bash', Buffer.from('bash'.repeat(300)));
  write(root, 'etc/conf', Buffer.from('key=1\n'));
  symlinkSync('usr/lib', join(root, 'lib')); // a symlinked spelling
  linkSync(join(root, 'etc/conf'), join(root, 'etc/conf-link')); // a second name (dropped as a duplicate)
  mkdirSync(join(root, 'usr/share'), { recursive: true });
  const paths = ['/usr/bin/bash', '/lib/libc.so.6', '/usr/lib/libc.so.6', '/etc/conf', '/etc/conf-link', '/usr/share', '/missing', '/live/distrib/x', '//usr//bin/./bash'];
  const trace = {
    source: 'events.tsv',
    format: 'bootprof-events' as const,
    events: paths.flatMap((path, i) => [
      { kind: 'open' as const, seq: 2 * i, timeNs: 10 * i, pid: 7, path },
      { kind: 'read' as const, seq: 2 * i + 1, timeNs: 10 * i + 5, pid: 7, path, offset: 0, length: 100 },
    ]),
  };
  const tree = new HostTree(root);
  const input = { excludes: [...DEFAULT_EXCLUDES], stripPrefixes: [], merge: 'concat' as const, blockEvents: 'ignore' as const, tree };
  const { selection, fileEventsOf } = selectProfile([trace], input);
  const { universe, boots } = optimizerInput({ traces: [trace], fileEventsOf, selection, tree, root, excludes: input.excludes, stripPrefixes: [] });
  const excludes = compileExcludes(input.excludes);
  const fileOf = (raw: string): number | undefined => {
    const path = normalizePath(raw);
    if (raw === '' || excludes.some((re) => re.test(path))) return undefined;
    const res = resolveRegularFile(tree, path);
    return res.ok ? universe.byRel.get(res.rel) : undefined;
  };
  const want = bootsFromTraces([trace], universe, { fileEventsOf, fileOf });
  t.same(boots, want);
  t.ok(boots[0]!.accesses.length >= 6, `${boots[0]!.accesses.length} accesses, through both spellings of libc`);
  t.end();
});
