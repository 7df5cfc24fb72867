import { InputError } from '../errors.js';
import type { Layout } from '../image/layout.js';
import type { MergeMode } from '../profile/merge.js';
import type { Selection } from '../profile/select.js';
import type { TreeView } from '../tree/tree-view.js';
import type { Trace } from '../trace/types.js';
import type { Boot } from './boots.js';
import { selectProfile } from './inputs.js';
import { optimizerInput } from './sort-plan.js';
import type { PlanCost } from './objective.js';
import { finishPlan, planContext, planOrder, type OptimizeOptions } from './plan.js';
import type { Objective } from './objective.js';
import type { Placement, PlanShape } from './predict-layout.js';
import type { Universe } from './universe.js';

/**
 * `bootprof tune`: the block size (mksquashfs -b), tried with the optimizer's plan for each (and,
 * for the table, its fragment and placement alternatives), all costed on the same replays. The
 * winner is the fastest predicted plan whose image grows by at most `maxGrowth` over the plan at
 * the image's own block size. Its `-b N` is for both mksquashfs and `bootprof sort`.
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

export interface TuneOptions extends Omit<OptimizeOptions, 'blockSize'> {
  blockSizes?: readonly number[];
  /** Largest accepted image growth over the smallest candidate, as a fraction. Default 0.01. */
  maxGrowth?: number;
}

export function tuneBuild(universe: Universe, boots: readonly Boot[], options: TuneOptions): TuneResult {
  const context = planContext(universe, boots, options);
  // The order is planned once, at the image's own block size, exactly as `sort` plans it; at each
  // block size the plan then decides fragments and placement as `sort --block-size` would, so
  // the winner's line and sort's plan agree.
  const ordered = planOrder(context);
  const rows: TuneRow[] = [];
  for (const blockSize of options.blockSizes ?? TUNE_BLOCK_SIZES) {
    const plan = finishPlan(context, ordered, blockSize);
    const options = ['-b', String(blockSize)];
    const row = (shape: PlanShape, chosen: boolean, cost?: PlanCost): TuneRow => ({
      blockSize,
      placement: shape.placement,
      unfragmented: shape.unfragmented.size > 0,
      cost: cost ?? context.cost(shape),
      options,
      chosen,
      shape,
    });
    const shape: PlanShape = { order: plan.order, placement: plan.placement, unfragmented: plan.unfragmented, blockSize };
    rows.push(row(shape, true, plan.cost));
    // the alternatives, for the table: the other placement, the other fragment choice
    rows.push(row({ ...shape, placement: plan.placement === 'beginning' ? 'end' : 'beginning' }, false));
    const readSmall = new Set<number>();
    universe.files.forEach((f, i) => {
      if (f.size < blockSize && context.read[i]! > 0) readSmall.add(i);
    });
    rows.push(row({ ...shape, unfragmented: plan.unfragmented.size > 0 ? new Set() : readSmall }, false));
  }
  const plans = rows.filter((r) => r.chosen);
  const base = plans.find((r) => r.blockSize === universe.baseBlockSize) ?? plans[0]!;
  const limit = base.cost.squashfsBytes * (1 + (options.maxGrowth ?? 0.01));
  const eligible = plans.filter((r) => r.cost.squashfsBytes <= limit);
  const winner = (eligible.length > 0 ? eligible : [base]).reduce((a, b) => (b.cost.ms < a.cost.ms ? b : a));
  return { rows, winner, objective: context.objective };
}

export interface TuneProfilesInput extends TuneOptions {
  traces: readonly Trace[];
  tree: TreeView;
  /** The image the profiles were taken on (`--image`), or the mksquashfs source (`--root`). */
  image?: Layout;
  root?: string;
  excludes: readonly string[];
  stripPrefixes: readonly string[];
  merge: MergeMode;
}

/** From traces to a tuning: the profile's regular files, each trace as a boot, then tuneBuild. */
export function tuneProfiles(input: TuneProfilesInput): TuneResult & { universe: Universe; boots: Boot[]; selection: Selection } {
  const { selection, fileEventsOf } = selectProfile(input.traces, {
    excludes: input.excludes,
    stripPrefixes: input.stripPrefixes,
    merge: input.merge,
    blockEvents: 'map',
    ...(input.image !== undefined ? { layout: input.image } : {}),
    tree: input.tree,
  });
  if (selection.files.length === 0) throw new InputError(`no profiled path is a regular file of ${input.tree.name}`);
  const { universe, boots } = optimizerInput({ ...input, fileEventsOf, selection });
  return { ...tuneBuild(universe, boots, input), universe, boots, selection };
}
