import type { Extent, Layout, LayoutFile } from '../image/layout.js';
import { SquashfsWriter } from '../sim/squashfs-writer.js';
import type { PlannedFile, Universe } from './universe.js';

/**
 * The squashfs that mksquashfs would write for a plan, predicted without building it: files in
 * plan order, each file's data blocks in turn; tails of files smaller than a block packed into
 * fragment blocks in the same order, a fragment block written when the next tail does not fit
 * (so after the large files that followed its first member); files the plan unfragments get their
 * tail as a block of their own, in place. Everything no profile names is summed into lumps placed
 * before (end placement) or after (beginning) the profiled region; the metadata tables follow all
 * data, as mksquashfs writes them.
 */
export type Placement = 'beginning' | 'end';

export interface PlanShape {
  /** Indexes into Universe.files, first written first. Planned files not listed follow them. */
  order: readonly number[];
  placement: Placement;
  /** Planned files stored without a fragment (mksquashfs no-fragments action). */
  unfragmented: ReadonlySet<number>;
  blockSize: number;
}

export interface PredictedImage {
  layout: Layout;
  /** Predicted size of the squashfs in bytes. */
  squashfsBytes: number;
}

/** A block compressed on its own pays its compressor's framing (xz: about 60 bytes); never more than raw. */
const LONE_BLOCK_OVERHEAD = 64;
export const SUPERBLOCK_BYTES = 96;

/**
 * The compressed lengths of the data blocks of a file of at least B bytes. At the image's own block
 * size they are the image's blocks: sparse blocks (all zeros) take no room, so a file may claim far
 * more than its blocks hold and is never placed block by block from its size. At another block
 * size only the bytes the image stores get blocks (sparse ones hold none).
 */
export function dataBlockLengths(u: Universe, file: PlannedFile, B: number): readonly number[] {
  if (B === u.baseBlockSize && file.blocks !== undefined) return file.blocks;
  const raw = file.blocks === undefined ? file.size : Math.min(file.size, file.blocks.length * u.baseBlockSize + (file.size % u.baseBlockSize));
  const full = Math.floor(raw / B);
  const rawTail = raw % B;
  const lengths: number[] = [];
  for (let block = 0; block < full; block++) lengths.push(Math.max(1, Math.round(B * file.ratio)));
  if (rawTail > 0) lengths.push(Math.max(1, Math.round(rawTail * file.ratio)));
  return lengths;
}

/** A file smaller than B: its raw tail, that tail compressed in a fragment block, and its length as a block of its own. */
export function tailSizes(u: Universe, file: PlannedFile, B: number): { raw: number; packed: number; lone: number } {
  const raw = file.size % B;
  const packed = B === u.baseBlockSize && file.blocks !== undefined && file.fragmentTail !== undefined ? file.fragmentTail : raw * file.ratio;
  return { raw, packed, lone: Math.max(1, Math.round(Math.min(raw, packed + LONE_BLOCK_OVERHEAD))) };
}

export function predictLayout(u: Universe, shape: PlanShape): PredictedImage {
  const B = shape.blockSize;
  const files = layoutFiles(u);
  const fileAt = layoutSlots(u);
  const base = u.prefixBytes;
  const w = new SquashfsWriter(0, B);
  if (base > 0) w.place({ length: base, kind: 'unknown' });
  w.place({ length: SUPERBLOCK_BYTES, kind: 'superblock' });
  /** A run of bytes (unprofiled data, a table) of one kind, if it is not empty. */
  const lump = (bytes: number, kind: Extent['kind'] = 'unknown'): void => {
    const length = Math.round(bytes);
    if (length > 0) w.place({ length, kind });
  };
  const restBytes = u.rest.dataBytes + u.rest.tailBytes;
  const restTailRaw = u.rest.ratio > 0 ? u.rest.tailBytes / u.rest.ratio : 0;

  if (shape.placement === 'end') lump(restBytes);

  const listed = new Set<number>();
  const sequence: number[] = [];
  for (const f of shape.order) {
    if (f >= 0 && f < u.files.length && !listed.has(f)) {
      listed.add(f);
      sequence.push(f);
    }
  }
  for (let f = 0; f < u.files.length; f++) if (!listed.has(f)) sequence.push(f);

  for (const f of sequence) {
    const file = u.files[f]!;
    const slot = fileAt[f]!;
    if (file.size >= B) {
      dataBlockLengths(u, file, B).forEach((length, block) => w.place({ length, kind: 'data-block', file: slot, block }));
      continue;
    }
    if (file.size === 0) continue;
    const tail = tailSizes(u, file, B);
    if (shape.unfragmented.has(f)) {
      w.place({ length: tail.lone, kind: 'data-block', file: slot, block: 0 });
      continue;
    }
    w.addTail(slot, tail.raw, tail.packed);
  }

  if (shape.placement === 'beginning') {
    // the pending fragment block is written once the first unprofiled tails fill it up
    const room = Math.max(0, B - w.pendingTailBytes);
    const before = restTailRaw > 0 ? Math.min(1, room / restTailRaw) : 1;
    lump(u.rest.dataBytes * before);
    w.addAnonymousTail(Math.min(room, restTailRaw) * u.rest.ratio);
    w.flush();
    lump(u.rest.dataBytes * (1 - before) + Math.max(0, u.rest.tailBytes - Math.min(room, restTailRaw) * u.rest.ratio));
  } else {
    w.flush();
  }

  lump(u.metadata.inode, 'inode-table');
  lump(u.metadata.directory, 'directory-table');
  lump(u.metadata.other, 'fragment-table');
  const extents = w.extents;
  const cursor = w.cursor;
  const squashfsBytes = cursor - base;
  const layout: Layout = {
    source: 'predicted',
    size: cursor,
    squashfsOffset: base,
    squashfsSize: squashfsBytes,
    blockSize: B,
    files,
    extents,
  };
  if (u.compressor !== undefined) layout.compressor = u.compressor;
  return { layout, squashfsBytes };
}

/**
 * Layout.files for a universe: as many entries as the squashfs has files, each planned file at the
 * slot of its walk rank, so that the replay finds its inode where mksquashfs writes it. Built once.
 */
const filesCache = new WeakMap<Universe, { files: LayoutFile[]; slots: Int32Array }>();

function build(u: Universe): { files: LayoutFile[]; slots: Int32Array } {
  let cached = filesCache.get(u);
  if (cached) return cached;
  const n = Math.max(u.totalFiles, u.files.length, 1);
  const filler: LayoutFile = { path: '', layer: 'squashfs', size: 0 };
  const files = new Array<LayoutFile>(n).fill(filler);
  const taken = new Uint8Array(n);
  const slots = new Int32Array(u.files.length);
  u.files.forEach((f, i) => {
    let s = Math.min(n - 1, Math.floor(f.walkRank * n));
    for (let probe = 0; taken[s] && probe < n; probe++) s = (s + 1) % n;
    taken[s] = 1;
    slots[i] = s;
    files[s] = { path: `/${f.rel}`, layer: 'squashfs', size: f.size };
  });
  cached = { files, slots };
  filesCache.set(u, cached);
  return cached;
}

function layoutFiles(u: Universe): LayoutFile[] {
  return build(u).files;
}

function layoutSlots(u: Universe): Int32Array {
  return build(u).slots;
}

/** How many files a predicted layout lists (its replay places inodes by index / this). */
export function predictedFileCount(u: Universe): number {
  return Math.max(1, build(u).files.length);
}

/** Each planned file's index in the predicted layouts' files (plan-cost.ts resolves accesses with it). */
export function predictedSlots(u: Universe): Int32Array {
  return layoutSlots(u);
}
