import type { DeviceModel } from '../sim/device.js';
import type { KernelOptions } from '../sim/page-cache.js';
import { bytesRead, type Boot } from './boots.js';
import { buildObjective, costOfPlan, type Objective, type PlanCost } from './objective.js';
import { closeFragmentsEarly, deferFiles, firstAccessOrder, processRunOrder } from './order.js';
import type { Placement, PlanShape } from './predict-layout.js';
import type { Universe } from './universe.js';

/**
 * The layout optimizer: decides, with the cost model in src/sim as the objective, everything a
 * mksquashfs build lets us control for the boot: which files leave the fragment blocks, the order,
 * where the profiled region goes, and (tune.ts) the block size. Every decision is a comparison of
 * predicted costs over the recorded boots and their reshuffled replays (perturb.ts), so a choice
 * that only suits one interleaving of one boot does not win.
 */
export interface OptimizeOptions {
  device: DeviceModel;
  kernel: KernelOptions;
  blockSize: number;
  /** Fix the placement instead of choosing it. */
  placement?: Placement;
  /** Reshuffled replays per boot (0: judge on the recorded boots only). */
  perturbations?: number;
  /** Largest per-process delay of a reshuffle, as a fraction of the boot's span. */
  spreadFraction?: number;
  seed?: number;
  /** Partly read large files tried at the end of the profiled region, at most this many. */
  maxDeferrals?: number;
  /** Called after each evaluated candidate (progress). */
  onStep?: (done: number) => void;
}

export interface LayoutPlan extends PlanShape {
  cost: PlanCost;
  /** The first-access order at the beginning with fragments as they are: the old recipe, predicted. */
  baseline: PlanCost;
  /** Files moved behind the densely read ones. */
  deferred: number[];
  /** Which order candidate won. */
  orderName: string;
  /** One line per decision, for stderr. */
  decisions: string[];
  evaluations: number;
}

export const DEFAULT_PERTURBATIONS = 4;
export const DEFAULT_SPREAD_FRACTION = 0.02;
/** A change smaller than this fraction of the cost is noise in the model: keep the simpler choice. */
const MIN_GAIN = 0.001;

export function optimizeLayout(universe: Universe, boots: readonly Boot[], options: OptimizeOptions): LayoutPlan {
  const context = planContext(universe, boots, options);
  return finishPlan(context, planOrder(context), options.blockSize);
}

/** What every step of a plan shares: the replays, the bytes each file was read, a counted cost function. */
export interface PlanContext {
  universe: Universe;
  boots: readonly Boot[];
  options: Omit<OptimizeOptions, 'blockSize'>;
  objective: Objective;
  read: Float64Array;
  cost: (shape: PlanShape) => PlanCost;
  evaluations: () => number;
}

export function planContext(universe: Universe, boots: readonly Boot[], options: Omit<OptimizeOptions, 'blockSize'>): PlanContext {
  const objective: Objective = buildObjective(universe, boots, {
    device: options.device,
    kernel: options.kernel,
    perturbations: options.perturbations ?? DEFAULT_PERTURBATIONS,
    spreadFraction: options.spreadFraction ?? DEFAULT_SPREAD_FRACTION,
    seed: options.seed ?? 1,
  });
  let evaluations = 0;
  return {
    universe,
    boots,
    options,
    objective,
    read: bytesRead(boots, universe),
    cost: (shape) => {
      const c = costOfPlan(universe, shape, objective);
      options.onStep?.(++evaluations);
      return c;
    },
    evaluations: () => evaluations,
  };
}

/** The order, its placement and the deferred files: decided once, at the image's own block size. */
export interface OrderDecision {
  name: string;
  order: number[];
  placement: Placement;
  deferred: number[];
  decisions: string[];
}

/** Small files the boot reads, at block size B: the candidates for leaving the fragment blocks. */
function readSmallFiles(context: PlanContext, B: number): Set<number> {
  const out = new Set<number>();
  context.universe.files.forEach((f, i) => {
    if (context.read[i]! > 0 && f.size < B) out.add(i);
  });
  return out;
}

/**
 * The order does not depend on the block size (tune and sort --block-size share it): candidates
 * (first access, process runs) at both placements, then partly read large files tried behind the
 * densely read ones, all with the boot files out of the fragment blocks.
 */
export function planOrder(context: PlanContext): OrderDecision {
  const { universe, boots, options, read, cost } = context;
  const n = universe.files.length;
  const B = universe.baseBlockSize;
  const readSmall = readSmallFiles(context, B);
  const decisions: string[] = [];
  const gapOf = (boot: Boot): number => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const a of boot.accesses) {
      lo = Math.min(lo, a.time);
      hi = Math.max(hi, a.time);
    }
    return ((hi - lo) * (options.spreadFraction ?? DEFAULT_SPREAD_FRACTION)) / 2;
  };
  const orders: { name: string; order: number[] }[] = [
    { name: 'first access', order: firstAccessOrder(boots, n) },
    { name: 'process runs', order: processRunOrder(boots, n, gapOf) },
  ];
  const placements: Placement[] = options.placement !== undefined ? [options.placement] : ['beginning', 'end'];
  let best: { name: string; shape: PlanShape; cost: PlanCost } | undefined;
  for (const o of orders) {
    for (const placement of placements) {
      const shape = { order: o.order, placement, unfragmented: readSmall, blockSize: B };
      const c = cost(shape);
      if (best === undefined || c.ms < best.cost.ms * (1 - MIN_GAIN)) best = { name: o.name, shape, cost: c };
    }
  }
  decisions.push(`order: ${best!.name}`);

  // Partly read large files: try each behind the densely read ones, most unread bytes first.
  const partly: number[] = [];
  for (let f = 0; f < n; f++) {
    const size = universe.files[f]!.size;
    if (size >= 4 * B && read[f]! < size / 2) partly.push(f);
  }
  partly.sort((a, b) => universe.files[b]!.size - read[b]! - (universe.files[a]!.size - read[a]!));
  const deferred = new Set<number>();
  for (const f of partly.slice(0, options.maxDeferrals ?? 8)) {
    deferred.add(f);
    const shape = { ...best!.shape, order: deferFiles(best!.shape.order, deferred) };
    const c = cost(shape);
    if (c.ms < best!.cost.ms * (1 - MIN_GAIN)) best = { ...best!, shape, cost: c };
    else deferred.delete(f);
  }
  if (deferred.size > 0) decisions.push(`${deferred.size} partly read large file(s) moved behind the densely read ones`);
  return { name: best!.name, order: [...best!.shape.order], placement: best!.shape.placement, deferred: [...deferred], decisions };
}

/** At block size B: whether the boot files leave the fragment blocks, and the placement once more. */
export function finishPlan(context: PlanContext, ordered: OrderDecision, B: number): LayoutPlan {
  const { cost, options } = context;
  const decisions = [...ordered.decisions];
  const readSmall = readSmallFiles(context, B);
  const none = new Set<number>();
  const baselineShape: PlanShape = { order: firstAccessOrder(context.boots, context.universe.files.length), placement: 'beginning', unfragmented: none, blockSize: B };
  const baseline = cost(baselineShape);
  let best: { shape: PlanShape; cost: PlanCost } = (() => {
    const shape = { order: ordered.order, placement: ordered.placement, unfragmented: readSmall, blockSize: B };
    return { shape, cost: cost(shape) };
  })();
  if (readSmall.size > 0) {
    const kept = { ...best.shape, unfragmented: none };
    // kept in the fragments, each block closed ahead of the large files read after its members
    const closed = closeFragmentsEarly(kept.order, (f) => context.universe.files[f]!.size, B, none);
    const candidates = [{ shape: kept, note: 'fragments: kept (taking the boot files out of the fragment blocks would not pay)' }];
    if (closed.moved > 0) {
      candidates.push({
        shape: { ...kept, order: closed.order },
        note: `fragments: kept, ${closed.moved} fragment block(s) closed ahead of the large files read after their first members`,
      });
    }
    let note = `fragments: ${readSmall.size} small files the boot reads leave the shared fragment blocks`;
    for (const candidate of candidates) {
      const c = cost(candidate.shape);
      if (c.ms < best.cost.ms * (1 - MIN_GAIN)) {
        best = { shape: candidate.shape, cost: c };
        note = candidate.note;
      }
    }
    decisions.push(note);
  }
  if (options.placement === undefined) {
    const other: Placement = best.shape.placement === 'beginning' ? 'end' : 'beginning';
    const shape = { ...best.shape, placement: other };
    const c = cost(shape);
    if (c.ms < best.cost.ms * (1 - MIN_GAIN)) best = { shape, cost: c };
  }
  // The old recipe is a candidate too: a plan the model predicts slower than it never wins.
  let orderName = ordered.name;
  let deferred = ordered.deferred;
  if (baseline.ms < best.cost.ms * (1 - MIN_GAIN)) {
    best = { shape: baselineShape, cost: baseline };
    orderName = 'first access';
    deferred = [];
    decisions.length = 0;
    decisions.push('order: first access, fragments as they are (every other plan was predicted slower)');
  }
  decisions.push(`profiled files at the ${best.shape.placement} of the image, block size ${B / 1024} KiB`);
  return {
    ...best.shape,
    cost: best.cost,
    baseline,
    deferred,
    orderName,
    decisions,
    evaluations: context.evaluations(),
  };
}
