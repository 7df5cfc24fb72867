import t, { type Test } from 'tap';
import type { Extent, Layout } from '../src/image/layout.js';
import { candidateLayouts, orderByPriority, reorderData } from '../src/sim/candidates.js';
import { CD52_CAV, DEVICES } from '../src/sim/devices.js';
import { simulateDevice } from '../src/sim/drive.js';
import { profileScenario, runScenarios } from '../src/sim/evaluate.js';
import { indexLayout } from '../src/image/layout-index.js';
import { blockEventsToReads, accessesFromReads } from '../src/sim/physical.js';
import { accessesReachingDrive, replayOnLayout, type FileAccess } from '../src/sim/replay.js';
import { throughPageCache } from '../src/sim/page-cache.js';
import { mulberry32 } from '../src/sim/prng.js';
import { syntheticLayout, syntheticTree } from './helpers/synthetic-layout.js';

function dataOrder(layout: Layout): number[] {
  const firstSeen: number[] = [];
  for (const e of layout.extents) {
    if (e.kind === 'data-block' && e.file !== undefined && !firstSeen.includes(e.file)) firstSeen.push(e.file);
  }
  return firstSeen;
}

function checkWellFormed(t: Test, original: Layout, moved: Layout, name: string): void {
  const key = (e: Extent): string => `${e.kind}/${e.file ?? ''}/${e.block ?? ''}/${e.length}`;
  const notFragment = (l: Layout): string[] => l.extents.filter((e) => e.kind !== 'fragment-block').map(key).sort();
  t.same(notFragment(moved), notFragment(original), `${name}: same data blocks and tables`);
  for (let i = 1; i < moved.extents.length; i++) {
    const a = moved.extents[i - 1]!;
    const b = moved.extents[i]!;
    if (a.start + a.length > b.start) t.fail(`${name}: extents ${i - 1} and ${i} overlap or are out of order`);
  }
  const tables = (l: Layout): Extent[] => l.extents.filter((e) => e.kind.endsWith('-table') || e.kind === 'superblock');
  t.same(tables(moved), tables(original), `${name}: metadata stays put`);
  // tails are repacked: every file with a tail is in exactly one fragment block, and the bytes add up
  const sharers = (l: Layout): number[] => l.extents.flatMap((e) => e.files ?? []).sort((a, b) => a - b);
  t.same(sharers(moved), sharers(original), `${name}: every tail in one fragment block`);
  const fragmentBytes = (l: Layout): number => l.extents.reduce((n, e) => n + (e.kind === 'fragment-block' ? e.length : 0), 0);
  const blocks = moved.extents.filter((e) => e.kind === 'fragment-block').length;
  t.ok(Math.abs(fragmentBytes(moved) - fragmentBytes(original)) <= blocks, `${name}: fragment bytes kept (to rounding)`);
  for (const e of moved.extents) {
    if (e.kind !== 'fragment-block') continue;
    const tails = (e.files ?? []).reduce((n, f) => n + (moved.files[f]!.size % moved.blockSize!), 0);
    if (tails > moved.blockSize!) t.fail(`${name}: a repacked fragment block holds ${tails} bytes of tails`);
  }
}

t.test('replay reads whole blocks, fragments and (estimated) metadata', async (t) => {
  const layout = syntheticLayout([
    { path: '/a', size: 10000 }, // 2 blocks + tail of 1808 in fragment 0
    { path: '/b', size: 100 }, // tail only, fragment 0
    { path: '/c', size: 8192 }, // 2 blocks, no tail
  ]);
  const index = indexLayout(layout);
  const r = replayOnLayout(index, [{ path: '/c' }, { path: '/nope' }, { path: '/a', offset: 4096, length: 10 }]);
  t.same(r.missing, ['/nope']);
  const rows = Array.from({ length: r.reads.count }, (_, i) => [r.reads.offset[i], r.reads.length[i], r.reads.file[i], r.reads.step[i]]);
  const inode = layout.extents.find((e) => e.kind === 'inode-table')!;
  const dir = layout.extents.find((e) => e.kind === 'directory-table')!;
  const c = layout.extents.filter((e) => e.file === 2);
  const a1 = layout.extents.find((e) => e.file === 0 && e.block === 1)!;
  t.same(rows, [
    [inode.start, 8192, -1, 0],
    [dir.start, 8192, -1, 0],
    [c[0]!.start, 2048, 2, 0],
    [c[1]!.start, 2048, 2, 0],
    [inode.start, 8192, -1, 2],
    [dir.start, 8192, -1, 2],
    [a1.start, 2048, 0, 2],
  ]);
  const whole = replayOnLayout(index, [{ path: '/b' }]);
  const frag = layout.extents.find((e) => e.kind === 'fragment-block')!;
  t.equal(whole.reads.offset[2], frag.start, 'a tail-only file reads its fragment block');
});

t.test('accesses that only hit the page cache are dropped, and the drive sees the same reads', async (t) => {
  const layout = syntheticLayout(syntheticTree(6, 5), { blockSize: 512 });
  const index = indexLayout(layout);
  const paths = [...layout.files.map((f) => f.path), '/not/in/the/layout'];
  const random = mulberry32(11);
  let dropped = 0;
  for (let round = 0; round < 50; round++) {
    const stream: FileAccess[] = [];
    for (let i = 0; i < 200; i++) {
      const path = paths[Math.floor(random() * paths.length)]!;
      const size = layout.files.find((f) => f.path === path)?.size ?? 4096;
      const kind = random();
      // whole files, opens, and ranges (some past the end) of one byte to a few blocks
      if (kind < 0.2) stream.push({ path });
      else if (kind < 0.3) stream.push({ path, offset: 0, length: 0 });
      else {
        const offset = Math.floor(random() * size * 1.1);
        stream.push({ path, offset, length: 1 + Math.floor(random() * 1500) });
      }
    }
    const reduced = accessesReachingDrive(index, stream);
    dropped += stream.length - reduced.length;
    const drive = (s: readonly FileAccess[]): number[][] => {
      const reads = throughPageCache(replayOnLayout(index, s).reads, layout.size, { readaheadBytes: 2048 });
      return Array.from({ length: reads.count }, (_, i) => [reads.offset[i]!, reads.length[i]!]);
    };
    t.same(drive(reduced), drive(stream), `round ${round}: same reads`);
    // each file's metadata is read at its first access, opens included
    const metadataOf = (s: readonly FileAccess[]): number[] => {
      const reads = replayOnLayout(index, s).reads;
      return Array.from({ length: reads.count }, (_, i) => i).filter((i) => reads.file[i] === -1).map((i) => reads.offset[i]!);
    };
    const firstAccesses = (s: readonly FileAccess[]): FileAccess[] => s.filter((a, i) => s.findIndex((b) => b.path === a.path) === i);
    t.same(firstAccesses(reduced), firstAccesses(stream), `round ${round}: every file's first access kept`);
    t.same(metadataOf(reduced), metadataOf(stream), `round ${round}: same metadata reads`);
    t.same(replayOnLayout(index, reduced).missing, replayOnLayout(index, stream).missing, `round ${round}: same missing paths`);
  }
  t.ok(dropped > 1000, `re-reads dropped (${dropped} of 10000)`);
  // a second read of the same bytes, and an open after a read, never reach the drive
  const f = layout.files[0]!.path;
  t.same(accessesReachingDrive(index, [{ path: f, offset: 0, length: 10 }, { path: f, offset: 5, length: 10 }, { path: f, offset: 0, length: 0 }]), [{ path: f, offset: 0, length: 10 }]);
});

t.test('candidate layouts follow mksquashfs sort semantics', async (t) => {
  const layout = syntheticLayout(syntheticTree(6, 5), { blockSize: 512 }); // every file has data blocks
  const files = layout.files.map((f) => f.path);
  const profiled = ['/usr/lib/d4/f3.so', '/usr/lib/d1/f0.so', '/usr/lib/d5/f4.so'];
  const touched = ['/usr', '/usr/lib/d2', ...profiled];
  const candidates = candidateLayouts(layout, { profiledFiles: profiled, touchedPaths: touched, seed: 7 });
  t.same(candidates.map((c) => c.name), ['as is', 'sorted', 'seed recipe', 'layout end', 'random']);
  for (const c of candidates) checkWellFormed(t, layout, c.layout, c.name);
  const byName = (n: string): Layout => candidates.find((c) => c.name === n)!.layout;
  const idx = (p: string): number => files.indexOf(p);

  const sorted = dataOrder(byName('sorted'));
  t.same(sorted.slice(0, 3), profiled.map(idx), 'sorted: profiled files first, in access order');
  const rest = sorted.slice(3);
  t.same(rest, [...rest].sort((a, b) => b - a), 'sorted: the others in reverse walk order (equal priority 0)');

  const seed = dataOrder(byName('seed recipe'));
  // "/usr" is listed first (32767) and hands its priority to every file below it that has no nearer
  // listed entry: they all tie and come first in reverse walk order; /usr/lib/d2's files follow
  // (32766), then the explicitly listed files, which now come after most of the tree
  const d2all = files.filter((p) => p.startsWith('/usr/lib/d2/')).map(idx);
  const others = files.map((_, i) => i).filter((i) => !d2all.includes(i) && !profiled.map(idx).includes(i));
  t.same(seed, [...others.reverse(), ...d2all.reverse(), ...profiled.map(idx)], 'seed recipe: a listed /usr pulls the whole tree ahead of the boot files');
  const seedNoUsr = candidateLayouts(layout, { profiledFiles: profiled, touchedPaths: touched.slice(1), seed: 7 });
  const seed2 = dataOrder(seedNoUsr.find((c) => c.name === 'seed recipe')!.layout);
  const d2 = files.filter((p) => p.startsWith('/usr/lib/d2/')).map(idx).reverse();
  t.same(seed2.slice(0, 5), d2, 'seed recipe: a listed directory pulls its whole subtree first');
  t.same(seed2.slice(5, 8), profiled.map(idx), 'then the files listed after it');

  const end = dataOrder(byName('layout end'));
  t.same(end.slice(-3), profiled.map(idx), 'layout end: profiled files last, in access order');

  const random1 = dataOrder(byName('random'));
  const random2 = dataOrder(candidateLayouts(layout, { profiledFiles: profiled, touchedPaths: touched, seed: 7 })[4]!.layout);
  const random3 = dataOrder(candidateLayouts(layout, { profiledFiles: profiled, touchedPaths: touched, seed: 8 })[4]!.layout);
  t.same(random1, random2, 'random baseline is the same for the same seed');
  t.not(random1.join(), random3.join(), 'and differs for another seed');
  t.same([...random1].sort((a, b) => a - b), files.map((_, i) => i), 'a permutation of every file');
});

t.test('sorting makes a scattered boot cheaper on a CD, and the bound holds for every layout', async (t) => {
  const layout = syntheticLayout(syntheticTree(40, 25), { blockSize: 131072, ratio: 0.4 });
  // a profile scattered over the image: every 37th file
  const profiled = layout.files.filter((_, i) => i % 37 === 0).map((f) => f.path);
  const candidates = candidateLayouts(layout, { profiledFiles: profiled, touchedPaths: profiled, seed: 1 });
  const scenarios = candidates.map((c) =>
    profileScenario('img', c.name, c.description, c.layout, profiled.map((path) => ({ path })), { readaheadBytes: 131072 }),
  );
  const results = runScenarios(scenarios, DEVICES, CD52_CAV.id);
  // the model's seek counts and distances, not its time estimate: a test asserts no time
  const cd = (name: string): { seeks: number } => results.find((r) => r.scenario.layout === name)!.runs[0]!.totals;
  t.ok(cd('sorted').seeks < cd('as is').seeks, `sorted: ${cd('sorted').seeks} seeks < as is: ${cd('as is').seeks}`);
  t.ok(cd('sorted').seeks < cd('random').seeks, 'sorted beats the random baseline');
  for (const r of results) {
    for (const run of r.runs) {
      t.ok(run.totals.lowerBoundMs <= run.totals.totalMs, `${r.scenario.layout} on ${run.device}: bound <= total`);
    }
    t.ok(r.runs[0]!.detail !== undefined && r.runs[1]!.detail === undefined, 'detail only on the chart device');
  }
});

t.test('physical traces: block events to reads, files, and a first-touch profile', async (t) => {
  const layout = syntheticLayout(syntheticTree(2, 3), { base: 1 << 20 });
  const f4 = layout.extents.find((e) => e.file === 4)!;
  const f1 = layout.extents.find((e) => e.file === 1)!;
  const physical = blockEventsToReads([
    { kind: 'block', seq: 0, device: 'sr0', offset: f4.start, length: 4096 },
    { kind: 'open', seq: 1, path: '/x' },
    { kind: 'block', seq: 2, device: 'sr0', offset: f1.start, length: 2048 },
    { kind: 'block', seq: 3, device: 'sr0', offset: 0, length: 2048 },
  ], layout);
  t.equal(physical.aboveCache, false);
  t.same(Array.from(physical.reads.file), [4, 1, -1]);
  t.same(accessesFromReads(physical.reads, layout).map((a) => a.path), [layout.files[4]!.path, layout.files[1]!.path]);
  const sq = blockEventsToReads([{ kind: 'block', seq: 0, device: '7:0', offset: 100, length: 10, squashfsOffset: true }], layout);
  t.equal(sq.aboveCache, true, 'squashfs-level reads still go through the page cache');
  t.equal(sq.reads.offset[0], (1 << 20) + 100, 'and are shifted by the squashfs offset');
});

t.test('reorder refuses metadata among the data', async (t) => {
  const layout = syntheticLayout(syntheticTree(1, 3));
  const second = layout.extents.findIndex((e, i) => i > 1 && e.kind === 'data-block');
  const withIntruder: Layout = {
    ...layout,
    extents: layout.extents.map((e, i) => (i === second ? { ...e, kind: 'inode-table' as const, file: undefined } : e)),
  };
  t.throws(() => reorderData(withIntruder, orderByPriority(3, () => 0)), { code: 'EINPUT' });
  t.ok(simulateDevice(CD52_CAV, replayOnLayout(indexLayout(layout), [{ path: layout.files[0]!.path }]).reads).totals.totalMs > 0);
});
