import { InputError } from '../errors.js';
import type { Extent, Layout } from '../image/layout.js';
import { dataOwner, indexLayout, type LayoutIndex } from '../image/layout-index.js';
import { mulberry32 } from './prng.js';
import { SquashfsWriter } from './squashfs-writer.js';

/**
 * Candidate layouts for one profile, predicted without rebuilding the image: the original's
 * compressed data and fragment blocks are moved, metadata tables stay where they are.
 * File order follows mksquashfs -sort semantics (DESIGN.md): higher priority first; a file not
 * listed takes its nearest listed directory's priority, else 0; equal priorities come out in
 * reverse walk order.
 */
export interface Candidate {
  name: string;
  description: string;
  layout: Layout;
}

/** Extents that a rebuild with a sort file moves. */
function isMovable(e: Extent): boolean {
  return e.kind === 'data-block' || e.kind === 'fragment-block';
}

/** File indexes sorted by descending priority, ties in reverse walk order (mksquashfs). */
export function orderByPriority(fileCount: number, priorityOf: (file: number) => number): number[] {
  const keys = new Float64Array(fileCount);
  const order: number[] = [];
  for (let i = 0; i < fileCount; i++) {
    keys[i] = priorityOf(i);
    order.push(i);
  }
  order.sort((a, b) => keys[b]! - keys[a]! || b - a);
  return order;
}

/**
 * Lay the data out again with files written in `order` (file indexes, first written first), the
 * way mksquashfs writes with a sort file: each file's data blocks in turn, while tails are packed
 * into fragment blocks in the same order, a fragment block being written when the next tail does
 * not fit. A repacked fragment block's compressed size is the tails' share of the compressed size
 * of the fragment blocks they came from (the compression ratio of a tail is kept).
 * Blocks of no listed file keep their relative order at the end. Gaps between blocks close up.
 */
export function reorderData(layout: Layout, order: readonly number[], index: LayoutIndex = indexLayout(layout)): Layout {
  const movable = layout.extents.filter(isMovable);
  if (movable.length === 0) return layout;
  const regionStart = movable[0]!.start;
  const last = movable[movable.length - 1]!;
  const regionEnd = last.start + last.length;
  const fixed = layout.extents.filter((e) => !isMovable(e));
  const intruder = fixed.find((e) => e.start < regionEnd && e.start + e.length > regionStart);
  if (intruder !== undefined) {
    throw new InputError(
      `${layout.source}: a ${intruder.kind} extent at byte ${intruder.start} sits among the data blocks; cannot predict a reordering`,
    );
  }
  const blockSize = layout.blockSize !== undefined && layout.blockSize > 0 ? layout.blockSize : 131072;
  const tailOf = (file: number): number => layout.files[file]!.size % blockSize;
  // compressed bytes per uncompressed tail byte, per original fragment block
  const ratio = new Map<Extent, number>();
  for (const e of movable) {
    if (e.kind !== 'fragment-block') continue;
    const tails = (e.files ?? []).reduce((n, f) => n + (f >= 0 && f < layout.files.length ? tailOf(f) : 0), 0);
    ratio.set(e, tails > 0 ? e.length / tails : 0);
  }
  const placedData = new Set<Extent>();
  const repacked = new Set<Extent>();
  const writer = new SquashfsWriter(regionStart, blockSize);
  const done = new Set<number>();
  for (const file of order) {
    const owner = dataOwner(index, file);
    if (done.has(owner)) continue;
    done.add(owner);
    for (const e of index.data[owner] ?? []) {
      if (e.kind !== 'data-block' || placedData.has(e)) continue;
      placedData.add(e);
      writer.place(e);
    }
    const fragments = index.fragments[owner] ?? [];
    if (fragments.length === 0) continue;
    const tail = tailOf(owner);
    let compressed = 0;
    for (const f of fragments) {
      repacked.add(f);
      compressed += tail * (ratio.get(f) ?? 0) / fragments.length;
    }
    writer.addTail(owner, tail, compressed);
  }
  writer.flush();
  // whatever no listed file owns (fragments of unknown sharers, orphan blocks) goes last, as it was
  for (const e of movable) {
    if (placedData.has(e) || repacked.has(e)) continue;
    writer.place(e.kind === 'fragment-block' ? { ...e, fragment: writer.nextFragment() } : e);
  }
  const moved = writer.extents;
  const extents = [...fixed, ...moved].sort((a, b) => a.start - b.start);
  return { ...layout, extents };
}

/** Priority of each file for a sort file listing `paths` at 32767, 32766, ... (directories hand theirs down). */
function sortFilePriorities(layout: Layout, paths: readonly string[], directoriesInherit: boolean): (file: number) => number {
  const priority = new Map<string, number>();
  paths.forEach((p, i) => {
    if (!priority.has(p)) priority.set(p, -i);
  });
  return (file) => {
    const path = layout.files[file]!.path;
    const own = priority.get(path);
    if (own !== undefined) return 1e9 + own;
    if (!directoriesInherit) return 0;
    // walk up: /usr/lib/x.so -> /usr/lib -> /usr (the seed's sort file had no "/": an empty path is fatal)
    for (let cut = path.lastIndexOf('/'); cut > 0; cut = path.lastIndexOf('/', cut - 1)) {
      const dir = priority.get(path.slice(0, cut));
      if (dir !== undefined) return 1e9 + dir;
    }
    return 0;
  };
}

export interface CandidateOptions {
  /** Regular files of the profile, in first-access order (what our sort file lists). */
  profiledFiles: readonly string[];
  /** Every path the boot touched, directories included, first-access order (what the seed listed). */
  touchedPaths: readonly string[];
  /** Seed of the random baseline. */
  seed: number;
}

export function candidateLayouts(layout: Layout, options: CandidateOptions): Candidate[] {
  const index = indexLayout(layout);
  const squashfsFiles = layout.files.length;
  const inLayout = options.profiledFiles.filter((p) => index.byPath.has(p));
  const ours = sortFilePriorities(layout, inLayout, false);
  const seedRecipe = sortFilePriorities(layout, options.touchedPaths, true);
  const rank = new Map<string, number>();
  inLayout.forEach((p, i) => {
    if (!rank.has(p)) rank.set(p, i);
  });
  const random = mulberry32(options.seed);
  const shuffled = Array.from({ length: squashfsFiles }, (_, i) => i);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  return [
    { name: 'as is', description: 'the image as built', layout },
    {
      name: 'sorted',
      description: 'our sort file (profiled regular files in first-access order), predicted by moving the original blocks',
      layout: reorderData(layout, orderByPriority(squashfsFiles, ours), index),
    },
    {
      name: 'seed recipe',
      description: "draklive's sort file (every touched path, directories handing their priority to all files below), predicted",
      layout: reorderData(layout, orderByPriority(squashfsFiles, seedRecipe), index),
    },
    {
      name: 'layout end',
      description: '--layout end: profiled files after every other file, in access order (priorities -1, -2, ...), predicted',
      layout: reorderData(
        layout,
        orderByPriority(squashfsFiles, (f) => {
          const r = rank.get(layout.files[f]!.path);
          return r === undefined ? 0 : -1 - r;
        }),
        index,
      ),
    },
    {
      name: 'random',
      description: `files in a random order (seeded PRNG, seed ${options.seed}): the baseline`,
      layout: reorderData(layout, shuffled, index),
    },
  ];
}
