import { bytesRead, type Boot } from './boots.js';
import type { PlanCost } from './objective.js';
import { costOfPlan, buildObjective } from './objective.js';
import { DEFAULT_PERTURBATIONS, DEFAULT_SPREAD_FRACTION, optimizeLayout, type OptimizeOptions } from './plan.js';
import type { Objective } from './objective.js';
import type { Placement, PlanShape } from './predict-layout.js';
import type { Universe } from './universe.js';

/**
 * `bootprof tune`: the build settings mksquashfs takes on its command line (block size), tried
 * with the optimizer's plan for each and its fragment and placement alternatives, all costed on
 * the same replays. The winner is the fastest predicted boot whose image grows by at most
 * `maxGrowth` over the smallest candidate at the image's own block size.
 */
export interface TuneRow {
  blockSize: number;
  placement: Placement;
  /** Boot files out of the fragment blocks (the no-fragments action file). */
  unfragmented: boolean;
  cost: PlanCost;
  /** The extra mksquashfs options this row needs beyond the sort and action files. */
  options: string[];
  /** The optimizer's own choice for this block size (the others are its alternatives). */
  chosen: boolean;
  shape: PlanShape;
}

export interface TuneResult {
  rows: TuneRow[];
  winner: TuneRow;
  /** The replays every row was judged on (a real build is judged on the same, tune --rebuild). */
  objective: Objective;
}

export const TUNE_BLOCK_SIZES = [131072, 262144, 524288, 1048576];
/** mksquashfs's default block size: no option needed for it. */
const MKSQUASHFS_DEFAULT_BLOCK = 131072;

export interface TuneOptions extends Omit<OptimizeOptions, 'blockSize'> {
  blockSizes?: readonly number[];
  /** Largest accepted image growth over the smallest candidate, as a fraction. Default 0.01. */
  maxGrowth?: number;
}

export function tuneBuild(universe: Universe, boots: readonly Boot[], options: TuneOptions): TuneResult {
  const objective = buildObjective(universe, boots, {
    device: options.device,
    kernel: options.kernel,
    perturbations: options.perturbations ?? DEFAULT_PERTURBATIONS,
    spreadFraction: options.spreadFraction ?? DEFAULT_SPREAD_FRACTION,
    seed: options.seed ?? 1,
  });
  const rows: TuneRow[] = [];
  // The order does not depend on the block size: plan it once at the image's own size, then try
  // each size with that order, its placement and both fragment choices.
  const plan = optimizeLayout(universe, boots, { ...options, blockSize: universe.baseBlockSize });
  const read = bytesRead(boots, universe);
  for (const blockSize of options.blockSizes ?? TUNE_BLOCK_SIZES) {
    const flags = blockSize === MKSQUASHFS_DEFAULT_BLOCK ? [] : ['-b', String(blockSize)];
    const row = (placement: Placement, unfragmented: ReadonlySet<number>, chosen: boolean, cost?: PlanCost): TuneRow => {
      const shape: PlanShape = { order: plan.order, placement, unfragmented, blockSize };
      return {
        blockSize,
        placement,
        unfragmented: unfragmented.size > 0,
        cost: cost ?? costOfPlan(universe, shape, objective),
        options: flags,
        chosen,
        shape,
      };
    };
    const readSmall = new Set<number>();
    universe.files.forEach((f, i) => {
      if (f.size < blockSize && read[i]! > 0) readSmall.add(i);
    });
    const unfragmented = plan.unfragmented.size > 0 ? readSmall : new Set<number>();
    const same = blockSize === universe.baseBlockSize;
    rows.push(row(plan.placement, unfragmented, same, same ? plan.cost : undefined));
    rows.push(row(plan.placement === 'beginning' ? 'end' : 'beginning', unfragmented, false));
    rows.push(row(plan.placement, unfragmented.size > 0 ? new Set() : readSmall, false));
  }
  const base = rows.filter((r) => r.blockSize === universe.baseBlockSize);
  const smallest = Math.min(...(base.length > 0 ? base : rows).map((r) => r.cost.squashfsBytes));
  const limit = smallest * (1 + (options.maxGrowth ?? 0.01));
  const eligible = rows.filter((r) => r.cost.squashfsBytes <= limit);
  const winner = (eligible.length > 0 ? eligible : rows).reduce((a, b) => (b.cost.ms < a.cost.ms ? b : a));
  return { rows, winner, objective };
}
