import type { Layout } from '../image/layout.js';
import { compileExcludes, normalizePath, stripPrefix } from '../profile/filters.js';
import { resolveRegularFile } from '../tree/resolve.js';
import type { SelectedFile, Selection } from '../profile/select.js';
import type { TreeView } from '../tree/tree-view.js';
import type { FileEvent, Trace } from '../trace/types.js';
import { bootsFromTraces, type Boot } from './boots.js';
import { optimizeLayout, type LayoutPlan, type OptimizeOptions } from './plan.js';
import { universeFromLayout, universeFromRoot, type Universe } from './universe.js';

/**
 * From the profile selection `bootprof sort` already made to a plan it can write: the selected
 * files in the optimized order, the placement, and the files for the no-fragments action file.
 */
export interface SortPlanInput extends Omit<OptimizeOptions, 'blockSize'> {
  traces: readonly Trace[];
  /** A trace's file events, with its block reads mapped to files when it has any. */
  fileEventsOf: (trace: Trace) => readonly FileEvent[];
  selection: Selection;
  tree: TreeView;
  /** The image the profile is checked against (`--image`), or the mksquashfs source (`--root`). */
  image?: Layout;
  root?: string;
  excludes: readonly string[];
  stripPrefixes: readonly string[];
  /** Default: the image's block size, else mksquashfs's 128 KiB. */
  blockSize?: number;
}

export interface SortPlan {
  /** The selected files in plan order, then the unprofiled identical copies of profiled files. */
  files: SelectedFile[];
  /** How many identical copies were listed after the profile. */
  twins: number;
  unfragment: SelectedFile[];
  plan: LayoutPlan;
  universe: Universe;
  boots: Boot[];
}

/** The planned files and each trace as a boot, in the optimizer's terms. */
export function optimizerInput(input: Omit<SortPlanInput, 'device' | 'kernel'>): { universe: Universe; boots: Boot[] } {
  const rels = input.selection.files.map((f) => f.rel);
  const universe = input.image !== undefined ? universeFromLayout(input.image, rels) : universeFromRoot(input.root ?? '.', rels);
  const excludes = compileExcludes(input.excludes);
  // the selection resolved every profiled path in the tree already: the same answer, looked up
  const resolved = new Map(input.selection.files.map((f) => [f.entry.path, f.rel]));
  const cache = new Map<string, number | undefined>();
  const fileOf = (raw: string): number | undefined => {
    if (raw === '') return undefined;
    let hit = cache.get(raw);
    if (hit !== undefined || cache.has(raw)) return hit;
    const path = normalizePath(stripPrefix(raw, input.stripPrefixes));
    if (!excludes.some((re) => re.test(path))) {
      const rel = resolved.get(path);
      if (rel !== undefined) {
        hit = universe.byRel.get(rel);
      } else {
        const res = resolveRegularFile(input.tree, path);
        if (res.ok) hit = universe.byRel.get(res.rel);
      }
    }
    cache.set(raw, hit);
    return hit;
  };
  const boots = bootsFromTraces(input.traces, universe, { fileEventsOf: input.fileEventsOf, fileOf });
  return { universe, boots };
}

export function planSortFile(input: SortPlanInput): SortPlan {
  const { universe, boots } = optimizerInput(input);
  const plan = optimizeLayout(universe, boots, { ...input, blockSize: input.blockSize ?? universe.baseBlockSize });
  const byRel = new Map(input.selection.files.map((f) => [f.rel, f]));
  const selected = (f: number): SelectedFile => byRel.get(universe.files[f]!.rel)!;
  const files = plan.order.map(selected);
  // selected files the universe does not hold (not in the image's squashfs) keep their place at the end
  const planned = new Set(files.map((f) => f.rel));
  for (const f of input.selection.files) if (!planned.has(f.rel)) files.push(f);
  // identical copies go right after the profile, so that mksquashfs stores the profiled copy
  const twins: SelectedFile[] = [];
  for (const f of plan.order) {
    for (const rel of universe.files[f]!.twins ?? []) {
      if (planned.has(rel)) continue;
      planned.add(rel);
      twins.push({ rel, entry: { path: `/${rel}`, order: -1, firstSeq: -1, source: -1 } });
    }
  }
  files.push(...twins);
  // the plan's decision at the block size it was made for (`-b N`, the same for sort and mksquashfs)
  const unfragment = [...plan.unfragmented].sort((a, b) => a - b).map(selected);
  return { files, unfragment, plan, universe, boots, twins: twins.length };
}
