import type { SelectedFile } from '../profile/select.js';
import type { DroppedPath } from '../profile/types.js';
import { genisoimageLine, genisoimagePathProblem, MAX_WEIGHT } from './genisoimage-sort.js';
import { escapeMksquashfsPath, mksquashfsLine } from './mksquashfs-sort.js';
import { planPriorities, type Placement, type PriorityPlan } from './priorities.js';

export type SortFormat = 'mksquashfs' | 'genisoimage';

export interface SortFileOptions {
  format: SortFormat;
  placement: Placement;
  /** Names at the top of the root that the profile does not list (only with a root). */
  topLevel?: readonly string[];
  /** genisoimage paths are host paths: the tree's directory as given to genisoimage. */
  hostPrefix?: string;
}

export interface SortFileResult {
  text: string;
  written: number;
  /** Paths that could not be written in this format. */
  dropped: DroppedPath[];
  plan?: PriorityPlan;
}

export function renderSortFile(files: readonly SelectedFile[], options: SortFileOptions): SortFileResult {
  return options.format === 'genisoimage' ? renderGenisoimage(files, options) : renderMksquashfs(files, options);
}

function renderMksquashfs(files: readonly SelectedFile[], options: SortFileOptions): SortFileResult {
  const dropped: DroppedPath[] = [];
  const escaped: string[] = [];
  for (const file of files) {
    const res = escapeMksquashfsPath(file.rel);
    if (res.ok) escaped.push(res.text);
    else dropped.push({ path: file.entry.path, reason: 'unrepresentable', detail: res.why });
  }
  const plan = planPriorities(escaped.length, options.placement, options.topLevel !== undefined);
  const lines: string[] = [];
  if (plan.floorPriority !== undefined) {
    const listed = new Set(files.map((f) => f.rel));
    for (const name of options.topLevel ?? []) {
      if (listed.has(name)) continue;
      const res = escapeMksquashfsPath(name);
      if (res.ok) lines.push(mksquashfsLine(res.text, plan.floorPriority));
    }
  }
  escaped.forEach((text, i) => lines.push(mksquashfsLine(text, plan.priorities[i]!)));
  return { text: lines.join(''), written: escaped.length, dropped, plan };
}

function renderGenisoimage(files: readonly SelectedFile[], options: SortFileOptions): SortFileResult {
  const dropped: DroppedPath[] = [];
  const lines: string[] = [];
  const prefix = options.hostPrefix === undefined ? '/' : `${options.hostPrefix.replace(/\/+$/, '')}/`;
  for (const file of files) {
    const path = prefix + file.rel;
    const why = genisoimagePathProblem(path);
    if (why !== undefined) {
      dropped.push({ path: file.entry.path, reason: 'unrepresentable', detail: why });
      continue;
    }
    lines.push(path);
  }
  // Weights stay positive so that listed files precede unlisted ones (weight 0); end placement uses negatives.
  const n = lines.length;
  const text = lines
    .map((path, i) => genisoimageLine(path, options.placement === 'beginning' ? Math.min(n - i, MAX_WEIGHT) : -1 - i))
    .join('');
  return { text, written: n, dropped };
}
