/**
 * The optimizer's plan costing (src/optimize/plan-cost.ts) places files into typed arrays instead
 * of building each predicted Layout: its figures must be those of costOfLayout(predictLayout(plan)),
 * bit for bit, or `sort` and `tune` would decide differently. Random universes (from a root or an
 * image, sparse blocks, empty files, a prefix, no metadata), random boots and random plans.
 */
import t from 'tap';
import type { Boot } from '../src/optimize/boots.js';
import { buildObjective, costOfLayout, costOfPlan, type PlanCost } from '../src/optimize/objective.js';
import { perturbBoot } from '../src/optimize/perturb.js';
import { predictLayout, type PlanShape } from '../src/optimize/predict-layout.js';
import type { PlannedFile, Universe } from '../src/optimize/universe.js';
import { deviceById } from '../src/sim/devices.js';
import { mulberry32 } from '../src/sim/prng.js';

const BASE = 131072;
const DEVICES = ['cd52x', 'cd24x', 'dvd16x', 'hdd', 'usb2', 'ssd'];

function randomUniverse(random: () => number): Universe {
  const n = 1 + Math.floor(random() * 80);
  const fromImage = random() < 0.5;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const files: PlannedFile[] = [];
  for (let i = 0; i < n; i++) {
    const r = random();
    const size = r < 0.08 ? 0 : r < 0.12 ? BASE * (1 + Math.floor(random() * 3)) : r < 0.35 ? BASE + Math.floor(random() * 12 * BASE) : Math.floor(random() * BASE);
    const ratio = random() < 0.1 ? 1.05 : 0.1 + random() * 0.8;
    const file: PlannedFile = { rel: `d${i % 7}/f${i}`, size, ratio, walkRank: random() };
    if (fromImage) {
      const full = Math.floor(size / BASE);
      // sparse blocks are left out of an image's block list
      const kept = random() < 0.1 ? Math.floor(random() * full) : full;
      file.blocks = Array.from({ length: kept }, () => (random() < 0.05 ? 0 : 1 + Math.floor(random() * BASE)));
      if (size % BASE > 0 && random() < 0.8) file.fragmentTail = (size % BASE) * ratio * (0.5 + random());
    }
    files.push(file);
  }
  const metadata = random() < 0.15 ? { inode: 0, directory: 0.4, other: 0 } : { inode: random() * 300_000, directory: random() * 100_000, other: random() * 9000 };
  return {
    files,
    byRel: new Map(files.map((f, i) => [f.rel, i])),
    rest: { files: 50, dataBytes: random() < 0.1 ? 0 : random() * (40 << 20), tailBytes: random() < 0.1 ? 0 : random() * (2 << 20), ratio: random() < 0.05 ? 0 : 0.2 + random() * 0.6 },
    metadata,
    prefixBytes: random() < 0.3 ? Math.floor(random() * 4 << 20) : 0,
    baseBlockSize: BASE,
    totalFiles: n + Math.floor(random() * 3000),
    source: fromImage ? 'image' : 'root',
    ...(random() < 0.5 ? { compressor: pick(['gzip', 'xz']) } : {}),
  };
}

function randomBoots(u: Universe, random: () => number): Boot[] {
  const boots: Boot[] = [];
  const count = 1 + Math.floor(random() * 2);
  for (let b = 0; b < count; b++) {
    const timed = random() < 0.8;
    const accesses: Boot['accesses'] = [];
    const n = Math.floor(random() * (random() < 0.1 ? 4000 : 300));
    let time = 0;
    for (let k = 0; k < n; k++) {
      const file = Math.floor(random() * u.files.length);
      const size = u.files[file]!.size;
      const r = random();
      const offset = r < 0.5 ? 0 : Math.floor(random() * (size + 10_000));
      const length = r < 0.1 ? 0 : r < 0.5 ? size : Math.floor(random() * 3 * BASE);
      time += Math.floor(random() * 1e6);
      accesses.push({ file, offset, length, time, pid: Math.floor(random() * 6) });
    }
    boots.push({ source: `boot${b}`, accesses, timed });
  }
  return boots;
}

function randomShape(u: Universe, random: () => number): PlanShape {
  const n = u.files.length;
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (random() < 0.9) order.push(i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  if (random() < 0.2 && n > 0) order.push(order[0] ?? 0, n + 3, -1); // repeats and strays are skipped
  const unfragmented = new Set<number>();
  const share = random() < 0.4 ? 0 : random();
  for (let i = 0; i < n; i++) if (random() < share) unfragmented.add(i);
  const blockSize = [BASE, BASE, 65536, 262144, 1048576][Math.floor(random() * 5)]!;
  return { order, placement: random() < 0.5 ? 'beginning' : 'end', unfragmented, blockSize };
}

t.test('plan costs: the typed-array placement gives costOfLayout(predictLayout(plan)) exactly', (t) => {
  const random = mulberry32(20261202);
  let agreed = 0;
  let compared = 0;
  const rounds = 150;
  for (let round = 0; round < rounds; round++) {
    const u = randomUniverse(random);
    const boots = randomBoots(u, random);
    const device = deviceById(DEVICES[round % DEVICES.length]!);
    const options = { device, kernel: { readaheadBytes: round % 5 === 0 ? 0 : 131072 }, perturbations: round % 3, spreadFraction: 0.02, seed: round + 1 };
    // separate objectives: the two paths share no cache
    const fast = buildObjective(u, boots, options);
    const reference = buildObjective(u, boots, options);
    // the streams filtered by path (no file indexes, or filtered by an earlier costOfLayout)
    if (round % 4 === 1) delete fast.streamFiles;
    let same = true;
    let firstShape: PlanShape | undefined;
    for (let k = 0; k < 5 && same; k++) {
      // the last plan repeats the first as new objects (costed once, remembered), or flips its placement
      const shape: PlanShape = k < 4 || firstShape === undefined
        ? randomShape(u, random)
        : { ...firstShape, order: [...firstShape.order], unfragmented: new Set([...firstShape.unfragmented].reverse()), placement: round % 2 === 0 ? firstShape.placement : firstShape.placement === 'end' ? 'beginning' : 'end' };
      firstShape ??= shape;
      if (round % 4 === 2 && k === 0) {
        const first = predictLayout(u, shape);
        costOfLayout(first.layout, first.squashfsBytes, fast);
      }
      const predicted = predictLayout(u, shape);
      const want: PlanCost = costOfLayout(predicted.layout, predicted.squashfsBytes, reference);
      const got = costOfPlan(u, shape, fast);
      compared++;
      if (!Object.is(got.ms, want.ms) || JSON.stringify(got) !== JSON.stringify(want)) {
        same = false;
        t.same(got, want, `round ${round}, plan ${k}: ${u.files.length} files, block size ${shape.blockSize}, ${shape.placement}`);
      }
    }
    if (same) agreed++;
  }
  t.equal(agreed, rounds, `${compared} plans on ${rounds} random universes cost the same both ways`);
  t.end();
});

t.test('plan costs: the replays reach the drive (the comparison above is not of empty runs)', (t) => {
  const random = mulberry32(5);
  const u = randomUniverse(random);
  const boots = randomBoots(u, random);
  const objective = buildObjective(u, boots, { device: deviceById('cd24x'), kernel: { readaheadBytes: 131072 }, perturbations: 2, spreadFraction: 0.02, seed: 1 });
  const c = costOfPlan(u, randomShape(u, random), objective);
  t.ok(c.ms > 0 && c.bytes > 0 && c.seeks > 0, `ms ${c.ms}, bytes ${c.bytes}, seeks ${c.seeks}`);
  t.end();
});

t.test('perturbed boots: the same reshuffle as sorting keyed objects (the way it was first written)', (t) => {
  const keyed = (boot: Boot, random: () => number, spread: number): Boot['accesses'] => {
    const shift = new Map<number, number>();
    const list = boot.accesses.map((a, i) => {
      let s = shift.get(a.pid);
      if (s === undefined) shift.set(a.pid, (s = (random() * 2 - 1) * spread));
      return { a, t: a.time + s, i };
    });
    list.sort((x, y) => x.t - y.t || x.i - y.i);
    return list.map((k) => k.a);
  };
  const random = mulberry32(11);
  let same = 0;
  for (let round = 0; round < 50; round++) {
    const u = randomUniverse(random);
    const [boot] = randomBoots(u, random);
    // equal times and equal shifted times: ties keep the recorded order
    if (round % 5 === 0) boot!.accesses.forEach((a, i) => (a.time = Math.floor(i / 4)));
    const spread = round % 7 === 0 ? 0.5 : 1 + random() * 5e6;
    const a = perturbBoot({ ...boot!, timed: true }, mulberry32(round), spread);
    const b = keyed({ ...boot!, timed: true }, mulberry32(round), spread);
    if (a.length === b.length && a.every((x, i) => x === b[i])) same++;
  }
  t.equal(same, 50, '50 random boots reshuffled alike');
  t.end();
});
