import type { Layout } from '../image/layout.js';
import { dataOwner, offsetInSpans, spanLength, type LayoutIndex } from '../image/layout-index.js';
import { ReadsBuilder, type Reads } from './reads.js';

/** One file access of a boot, in access order. Without a range the whole file is read. */
export interface FileAccess {
  path: string;
  offset?: number;
  length?: number;
}

export interface ReplayResult {
  /** Reads as squashfs issues them (whole blocks), before the page cache. */
  reads: Reads;
  /** Profiled paths the layout does not have. */
  missing: string[];
  /** Files found and replayed. */
  files: number;
}

/** A squashfs metadata block holds 8 KiB uncompressed; we read that much as an upper estimate. */
export const METADATA_BLOCK = 8192;

/**
 * Replay a file-level profile onto a layout: for each access, the reads squashfs would issue,
 * i.e. every data block (or the fragment block) overlapping the accessed range, whole.
 * The first access to a file also reads its inode and its directory entry. Their exact metadata
 * block is not in the layout, so we estimate it: squashfs writes inodes and directories in the
 * same walk order as layout.files, so file i's lives about i / files.length of the way into each table.
 */
export function replayOnLayout(index: LayoutIndex, accesses: readonly FileAccess[]): ReplayResult {
  const layout: Layout = index.layout;
  const out = new ReadsBuilder();
  const missing: string[] = [];
  const seen = new Set<number>();
  const inodeLength = spanLength(index.inodeTable);
  const directoryLength = spanLength(index.directoryTable);
  const nFiles = Math.max(1, layout.files.length);
  const blockSize = layout.blockSize !== undefined && layout.blockSize > 0 ? layout.blockSize : 131072;
  accesses.forEach((access, step) => {
    const file = index.byPath.get(access.path);
    if (file === undefined) {
      missing.push(access.path);
      return;
    }
    const entry = layout.files[file]!;
    if (!seen.has(file)) {
      seen.add(file);
      if (entry.layer === 'squashfs') {
        const rank = file / nFiles;
        if (inodeLength > 0) pushMetadata(out, index.inodeTable, inodeLength, rank, step);
        if (directoryLength > 0) pushMetadata(out, index.directoryTable, directoryLength, rank, step);
      }
    }
    const owner = dataOwner(index, file);
    const from = Math.max(0, access.offset ?? 0);
    const to = access.length === undefined ? entry.size : Math.min(entry.size, from + Math.max(0, access.length));
    if (to <= from) return; // opened, never read: the metadata above is all it cost
    const data = index.data[owner]!;
    if (entry.layer === 'iso') {
      // an ISO file is one or more contiguous extents: read the accessed bytes
      let base = 0;
      for (const e of data) {
        const a = Math.max(from, base);
        const b = Math.min(to, base + e.length);
        if (b > a) out.push(e.start + (a - base), b - a, file, step);
        base += e.length;
      }
      return;
    }
    const firstBlock = Math.floor(from / blockSize);
    const lastBlock = Math.max(firstBlock, Math.ceil(to / blockSize) - 1);
    if (blocksInOrder(data, firstBlock, lastBlock)) {
      // one extent per block, in order (how mksquashfs and the predictor write them): index straight
      // into the accessed blocks instead of scanning every block of a large file on each access
      for (let block = firstBlock; block <= lastBlock && block < data.length; block++) {
        const e = data[block]!;
        out.push(e.start, e.length, file, step);
      }
    } else {
      for (const e of data) {
        const block = e.block ?? 0;
        if (block >= firstBlock && block <= lastBlock) out.push(e.start, e.length, file, step);
      }
    }
    // the tail past the last full block lives in a fragment
    const tailStart = Math.floor(entry.size / blockSize) * blockSize;
    if (to > tailStart) {
      for (const e of index.fragments[owner]!) out.push(e.start, e.length, file, step);
    }
  });
  return { reads: out.build(), missing, files: seen.size };
}

/**
 * The accesses of a stream that can still reach the drive on layouts with this index's block size:
 * replayOnLayout reads whole blocks (and a file's whole tail fragment), and the page cache keeps
 * them for the boot, so an access whose blocks an earlier access of the same stream already read
 * only hits the cache, on any layout of the same files at that block size. The first access to each
 * file is kept (it reads the file's metadata), as is every access to a file outside the squashfs
 * (those read exact bytes) or not in the layout. Replaying the result gives the same reads.
 */
export function accessesReachingDrive(index: LayoutIndex, stream: readonly FileAccess[]): FileAccess[] {
  const layout = index.layout;
  const blockSize = layout.blockSize !== undefined && layout.blockSize > 0 ? layout.blockSize : 131072;
  /** Per file: the blocks read so far (the block past the last full one stands for the tail fragment). */
  const read = new Map<number, Set<number>>();
  const out: FileAccess[] = [];
  for (const access of stream) {
    const file = index.byPath.get(access.path);
    const entry = file === undefined ? undefined : layout.files[file];
    if (file === undefined || entry === undefined || entry.layer !== 'squashfs') {
      out.push(access);
      continue;
    }
    let blocks = read.get(file);
    const first = blocks === undefined;
    if (blocks === undefined) read.set(file, (blocks = new Set()));
    const from = Math.max(0, access.offset ?? 0);
    const to = access.length === undefined ? entry.size : Math.min(entry.size, from + Math.max(0, access.length));
    let fresh = first;
    if (to > from) {
      const firstBlock = Math.floor(from / blockSize);
      const lastBlock = Math.max(firstBlock, Math.ceil(to / blockSize) - 1);
      for (let b = firstBlock; b <= lastBlock; b++) {
        if (!blocks.has(b)) {
          blocks.add(b);
          fresh = true;
        }
      }
    }
    if (fresh) out.push(access);
  }
  return out;
}

function pushMetadata(out: ReadsBuilder, spans: LayoutIndex['inodeTable'], total: number, rank: number, step: number): void {
  const position = Math.min(total - 1, Math.floor(rank * total));
  const start = offsetInSpans(spans, Math.max(0, position - (position % METADATA_BLOCK)));
  out.push(start, METADATA_BLOCK, -1, step);
}

/** Whether data[b] is block b for every b of the range that the file has (and the list ends right). */
function blocksInOrder(data: readonly { block?: number }[], first: number, last: number): boolean {
  const n = data.length;
  if (n === 0 || data[n - 1]!.block !== n - 1) return false;
  for (let b = first; b <= last && b < n; b++) if (data[b]!.block !== b) return false;
  return true;
}
