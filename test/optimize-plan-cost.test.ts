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
import type { Universe } from '../src/optimize/universe.js';
import { deviceById } from '../src/sim/devices.js';
import { mulberry32 } from '../src/sim/prng.js';
import { BASE, randomBoots, randomUniverse } from './helpers/random-plans.js';

const DEVICES = ['cd52x', 'cd24x', 'dvd16x', 'hdd', 'usb2', 'ssd'];

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
