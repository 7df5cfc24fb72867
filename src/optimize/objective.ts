import type { Layout } from '../image/layout.js';
import type { DeviceModel } from '../sim/device.js';
import { simulateDevice, type CostTotals } from '../sim/drive.js';
import { indexLayout } from '../image/layout-index.js';
import { throughPageCache, type KernelOptions } from '../sim/page-cache.js';
import { mulberry32 } from '../sim/prng.js';
import { accessesReachingDrive, replayOnLayout, type FileAccess } from '../sim/replay.js';
import type { Boot } from './boots.js';
import { perturbationSpread, perturbBoot } from './perturb.js';
import { PlanCoster } from './plan-cost.js';
import { predictLayout, type PlanShape } from './predict-layout.js';
import type { Universe } from './universe.js';

/** What a plan is judged on: replays of every boot, as recorded and reshuffled, on one device. */
export interface Objective {
  device: DeviceModel;
  kernel: KernelOptions;
  /** Access streams to replay: each boot as recorded, then its perturbed variants. */
  streams: FileAccess[][];
  /** The same streams as indexes into Universe.files (plan-cost.ts replays these without paths). */
  streamFiles?: Int32Array[];
  /**
   * The streams without the accesses that only hit the page cache, per block size (they are the
   * same for every layout of the universe at one block size): a boot with a million reads of a few
   * thousand files replays in a fraction of the time, with the same result.
   */
  reaching?: Map<number, FileAccess[][]>;
}

export interface ObjectiveOptions {
  device: DeviceModel;
  kernel: KernelOptions;
  /** Reshuffled replays per timed boot, on top of the recorded one. */
  perturbations: number;
  /** Largest per-process delay, as a fraction of the boot's span. */
  spreadFraction: number;
  seed: number;
}

export function buildObjective(universe: Universe, boots: readonly Boot[], options: ObjectiveOptions): Objective {
  const paths = universe.files.map((f) => `/${f.rel}`);
  const toStream = (accesses: Boot['accesses']): FileAccess[] =>
    accesses.map((a) => ({ path: paths[a.file]!, offset: a.offset, length: a.length }));
  const random = mulberry32(options.seed);
  const streams: FileAccess[][] = [];
  const streamFiles: Int32Array[] = [];
  const add = (accesses: Boot['accesses']): void => {
    streams.push(toStream(accesses));
    const files = new Int32Array(accesses.length);
    for (let i = 0; i < accesses.length; i++) files[i] = accesses[i]!.file;
    streamFiles.push(files);
  };
  for (const boot of boots) {
    add(boot.accesses);
    const spread = perturbationSpread(boot, options.spreadFraction);
    if (spread <= 0) continue;
    for (let k = 0; k < options.perturbations; k++) add(perturbBoot(boot, random, spread));
  }
  return { device: options.device, kernel: options.kernel, streams, streamFiles };
}

export interface PlanCost {
  /** Mean estimated device time over the replays, ms. */
  ms: number;
  bytes: number;
  seeks: number;
  farSeeks: number;
  seekDistance: number;
  /** Predicted squashfs size. */
  squashfsBytes: number;
}

/** Mean cost of a plan's predicted layout over the objective's replays. */
export function costOfPlan(universe: Universe, shape: PlanShape, objective: Objective): PlanCost {
  if (!(shape.blockSize > 0)) {
    const predicted = predictLayout(universe, shape);
    return costOfLayout(predicted.layout, predicted.squashfsBytes, objective);
  }
  // the same figures as costOfLayout(predictLayout(...)), without building the layout (plan-cost.ts)
  let byUniverse = costers.get(objective);
  if (byUniverse === undefined) costers.set(objective, (byUniverse = new WeakMap()));
  let coster = byUniverse.get(universe);
  if (coster === undefined) byUniverse.set(universe, (coster = new PlanCoster(universe, objective)));
  return coster.cost(shape);
}

const costers = new WeakMap<Objective, WeakMap<Universe, PlanCoster>>();

/** Mean cost of any layout (predicted, or read from a real build) over the objective's replays. */
export function costOfLayout(layout: Layout, squashfsBytes: number, objective: Objective): PlanCost {
  const index = indexLayout(layout);
  const runs: CostTotals[] = [];
  const blockSize = layout.blockSize ?? 0;
  const cache = (objective.reaching ??= new Map());
  let streams = cache.get(blockSize);
  if (streams === undefined) cache.set(blockSize, (streams = objective.streams.map((s) => accessesReachingDrive(index, s))));
  for (const stream of streams) {
    const replay = replayOnLayout(index, stream);
    const reads = throughPageCache(replay.reads, layout.size, objective.kernel);
    runs.push(simulateDevice(objective.device, reads).totals);
  }
  return meanCost(runs, objective.streams.length, squashfsBytes);
}

/** A plan's cost: the mean of its replays' device runs (summed in replay order), and the image size. */
export function meanCost(runs: readonly CostTotals[], replays: number, squashfsBytes: number): PlanCost {
  const sum = { ms: 0, bytes: 0, seeks: 0, farSeeks: 0, seekDistance: 0 };
  for (const run of runs) {
    sum.ms += run.totalMs;
    sum.bytes += run.bytes;
    sum.seeks += run.seeks;
    sum.seekDistance += run.seekDistance;
    sum.farSeeks += run.farSeeks;
  }
  const n = Math.max(1, replays);
  return {
    ms: sum.ms / n,
    bytes: sum.bytes / n,
    seeks: sum.seeks / n,
    farSeeks: sum.farSeeks / n,
    seekDistance: sum.seekDistance / n,
    squashfsBytes,
  };
}
