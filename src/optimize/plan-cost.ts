import { indexLayout } from '../image/layout-index.js';
import { simulateDevice, type CostTotals } from '../sim/drive.js';
import { PageCache } from '../sim/page-cache.js';
import { ReadsBuilder, type Reads } from '../sim/reads.js';
import { METADATA_BLOCK, accessesReachingDrive, type FileAccess } from '../sim/replay.js';
import { meanCost, type Objective, type PlanCost } from './objective.js';
import { SUPERBLOCK_BYTES, dataBlockLengths, predictedFileCount, predictLayout, predictedSlots, tailSizes, type PlanShape } from './predict-layout.js';
import type { Universe } from './universe.js';

/**
 * The cost of a plan, as costOfLayout(predictLayout(plan)) computes it, without building the
 * predicted Layout: the optimizer costs a few dozen plans of one universe, and per plan the Layout
 * (an Extent object per block), its index, and a replay that looks every access up by path cost
 * several times the drive model itself. Here the accesses are resolved to files once per block
 * size, each plan places the files into typed arrays (the same arithmetic as predictLayout, in the
 * same order), and the replay reads those. The figures are the same to the last bit:
 * test/optimize-plan-cost.test.ts compares the two on random universes and plans.
 */


/** One replayed stream, resolved against the universe's layout slots (the same at every block size). */
interface CompiledStream {
  count: number;
  /** Universe file index, or -1 for a slot no planned file holds. */
  file: Int32Array;
  /** The accessed range, clipped to the file as replayOnLayout clips it. */
  from: Float64Array;
  to: Float64Array;
  /**
   * On the stream's first access to a slot, which metadata it reads (READS_INODE, READS_DIRECTORY):
   * none when the stream read that metadata block before (the page cache has it, on every layout).
   */
  first: Uint8Array;
  /** Offsets of that inode and directory entry's metadata block inside their tables. */
  inodeAt: Float64Array;
  directoryAt: Float64Array;
  /** The largest of those offsets (-Infinity: no first access), for the end of the last read. */
  lastInodeAt: number;
  lastDirectoryAt: number;
}

/** What does not change between plans at one block size: each file's block lengths and tail. */
interface BlockModel {
  B: number;
  streams: CompiledStream[];
  /** Per file: index of its first block in the flat block arrays, and how many it has (files >= B). */
  blockFirst: Int32Array;
  blockCount: Int32Array;
  blockLength: Float64Array;
  /** Per file: EMPTY, LARGE (>= B: blocks of its own) or SMALL (a tail, in a fragment or alone). */
  kind: Uint8Array;
  /** Per file smaller than B: raw tail, compressed tail in a fragment, and alone in a block. */
  tailRaw: Float64Array;
  tailPacked: Float64Array;
  loneLength: Float64Array;
}

/** The positions of one plan (scratch arrays, reused from plan to plan). */
interface Placed {
  blockStart: Float64Array;
  /** Per file: where its own tail block starts (unfragmented), else NaN. */
  loneStart: Float64Array;
  /** Per file: its fragment block, else NaN. */
  fragmentStart: Float64Array;
  fragmentLength: Float64Array;
  inodeStart: number;
  directoryStart: number;
  size: number;
  squashfsBytes: number;
}

export class PlanCoster {
  private readonly models = new Map<number, BlockModel>();
  private readonly listed: Uint8Array;
  private readonly sequence: Int32Array;
  private readonly pending: Int32Array;
  private placed: Placed | undefined;
  private readonly reads = new ReadsBuilder();
  private readonly inodeLength: number;
  private readonly directoryLength: number;

  constructor(
    private readonly universe: Universe,
    private readonly objective: Objective,
  ) {
    const n = universe.files.length;
    this.listed = new Uint8Array(n);
    this.sequence = new Int32Array(n);
    this.pending = new Int32Array(n);
    this.inodeLength = tableLength(universe.metadata.inode);
    this.directoryLength = tableLength(universe.metadata.directory);
  }

  /** Plans costed so far (the optimizer asks for some plans twice: the order's winner, then its finish). */
  private readonly known: { shape: PlanShape; order: number[]; cost: PlanCost }[] = [];

  cost(shape: PlanShape): PlanCost {
    const same = this.known.find((k) => sameShape(k.shape, k.order, shape));
    if (same !== undefined) return { ...same.cost };
    const cost = this.compute(shape);
    this.known.push({ shape: { ...shape, unfragmented: new Set(shape.unfragmented) }, order: [...shape.order], cost: { ...cost } });
    return cost;
  }

  private compute(shape: PlanShape): PlanCost {
    const model = this.modelFor(shape.blockSize);
    const placed = this.place(shape, model);
    const runs: CostTotals[] = [];
    for (const stream of model.streams) {
      const reads = this.replay(stream, model, placed);
      runs.push(simulateDevice(this.objective.device, reads, { lowerBound: false }).totals);
    }
    return meanCost(runs, this.objective.streams.length, placed.squashfsBytes);
  }

  /** Block lengths at B, and the objective's streams as costOfLayout replays them at B. */
  private modelFor(blockSize: number): BlockModel {
    const known = this.models.get(blockSize);
    if (known !== undefined) return known;
    const u = this.universe;
    const B = blockSize;
    const cache = (this.objective.reaching ??= new Map());
    const reaching = cache.get(B);
    let streams: CompiledStream[];
    if (reaching === undefined && this.objective.streamFiles !== undefined && blockCountAt(u, B) <= MAX_BITMAP_BLOCKS) {
      streams = this.compileByFiles(B, this.objective.streamFiles);
    } else {
      streams = this.compileByPaths(B);
    }
    const n = u.files.length;
    const kind = new Uint8Array(n);
    const blockFirst = new Int32Array(n);
    const blockCount = new Int32Array(n);
    const tailRaw = new Float64Array(n);
    const tailPacked = new Float64Array(n);
    const loneLength = new Float64Array(n);
    const lengths: number[] = [];
    for (let f = 0; f < n; f++) {
      const file = u.files[f]!;
      blockFirst[f] = lengths.length;
      if (file.size >= B) {
        for (const length of dataBlockLengths(u, file, B)) lengths.push(length);
        blockCount[f] = lengths.length - blockFirst[f]!;
        kind[f] = LARGE;
        continue;
      }
      if (file.size === 0) continue;
      kind[f] = SMALL;
      const tail = tailSizes(u, file, B);
      tailRaw[f] = tail.raw;
      tailPacked[f] = tail.packed;
      loneLength[f] = tail.lone;
    }
    const model: BlockModel = { B, streams, kind, blockFirst, blockCount, blockLength: Float64Array.from(lengths), tailRaw, tailPacked, loneLength };
    this.models.set(blockSize, model);
    return model;
  }

  /**
   * The streams at B as accessesReachingDrive leaves them, from the universe's file indexes: the
   * same rule (a file's first access, and any access that reads a block of it not read before in
   * the stream) on a bitmap of each file's blocks instead of a set per file looked up by path.
   * Also leaves the filtered streams in objective.reaching, as costOfLayout would have.
   */
  private compileByFiles(B: number, streamFiles: readonly Int32Array[]): CompiledStream[] {
    const u = this.universe;
    const n = u.files.length;
    const slots = predictedSlots(u);
    const nFiles = predictedFileCount(u);
    const size = new Float64Array(n);
    // each file's blocks at B, numbered from blockBase[f]
    const blockBase = new Float64Array(n + 1);
    // where each file's inode and directory entry are read, in metadata blocks of their tables
    const inodeBlock = new Int32Array(n);
    const directoryBlock = new Int32Array(n);
    for (let f = 0; f < n; f++) {
      size[f] = u.files[f]!.size;
      blockBase[f + 1] = blockBase[f]! + Math.ceil(size[f]! / B);
      inodeBlock[f] = metadataAt(this.inodeLength, slots[f]! / nFiles) / METADATA_BLOCK;
      directoryBlock[f] = metadataAt(this.directoryLength, slots[f]! / nFiles) / METADATA_BLOCK;
    }
    const readBlocks = new Uint32Array(Math.ceil(blockBase[n]! / 32) + 1);
    const seen = new Uint8Array(n);
    const inodeRead = new Uint8Array(Math.ceil(this.inodeLength / METADATA_BLOCK) + 1);
    const directoryRead = new Uint8Array(Math.ceil(this.directoryLength / METADATA_BLOCK) + 1);
    const reaching: FileAccess[][] = [];
    const streams = this.objective.streams.map((accesses, k): CompiledStream => {
      const files = streamFiles[k]!;
      readBlocks.fill(0);
      seen.fill(0);
      inodeRead.fill(0);
      directoryRead.fill(0);
      const kept: FileAccess[] = [];
      const s = emptyStream(accesses.length);
      const { file: outFile, from: outFrom, to: outTo, first: outFirst, inodeAt, directoryAt } = s;
      let lastInodeBlock = -1;
      let lastDirectoryBlock = -1;
      let count = 0;
      for (let i = 0; i < accesses.length; i++) {
        const access = accesses[i]!;
        const f = files[i]!;
        const fileSize = size[f]!;
        const from = Math.max(0, access.offset ?? 0);
        const to = access.length === undefined ? fileSize : Math.min(fileSize, from + Math.max(0, access.length));
        const first = seen[f] === 0;
        let fresh = first;
        if (to > from) {
          const firstBlock = Math.floor(from / B);
          const lastBlock = Math.max(firstBlock, Math.ceil(to / B) - 1);
          for (let b = blockBase[f]! + firstBlock, end = blockBase[f]! + lastBlock; b <= end; b++) {
            const bit = 1 << (b & 31);
            if ((readBlocks[b >>> 5]! & bit) === 0) {
              readBlocks[b >>> 5] = readBlocks[b >>> 5]! | bit;
              fresh = true;
            }
          }
        }
        if (!fresh) continue; // only the page cache sees it, on every layout at B
        kept.push(access);
        outFile[count] = f;
        outFrom[count] = from;
        outTo[count] = to;
        if (first) {
          seen[f] = 1;
          // a metadata block the stream read before is in the page cache: only new ones are read
          const ib = inodeBlock[f]!;
          const db = directoryBlock[f]!;
          inodeAt[count] = ib * METADATA_BLOCK;
          directoryAt[count] = db * METADATA_BLOCK;
          if (ib > lastInodeBlock) lastInodeBlock = ib;
          if (db > lastDirectoryBlock) lastDirectoryBlock = db;
          let flags = 0;
          if (this.inodeLength > 0 && inodeRead[ib] === 0) {
            inodeRead[ib] = 1;
            flags |= READS_INODE;
          }
          if (this.directoryLength > 0 && directoryRead[db] === 0) {
            directoryRead[db] = 1;
            flags |= READS_DIRECTORY;
          }
          outFirst[count] = flags;
        }
        count++;
      }
      s.count = count;
      if (lastInodeBlock >= 0) s.lastInodeAt = lastInodeBlock * METADATA_BLOCK;
      if (lastDirectoryBlock >= 0) s.lastDirectoryAt = lastDirectoryBlock * METADATA_BLOCK;
      reaching.push(kept);
      return s;
    });
    this.objective.reaching!.set(B, reaching);
    return streams;
  }

  /**
   * The first access at `k` reads the inode and directory blocks of a file at walk rank `rank`:
   * which of them the stream has not read before (`read` holds those it has).
   */
  private noteMetadata(s: CompiledStream, k: number, rank: number, read: { inode: Set<number>; directory: Set<number> }): void {
    const inodeAt = metadataAt(this.inodeLength, rank);
    const directoryAt = metadataAt(this.directoryLength, rank);
    s.inodeAt[k] = inodeAt;
    s.directoryAt[k] = directoryAt;
    s.lastInodeAt = Math.max(s.lastInodeAt, inodeAt);
    s.lastDirectoryAt = Math.max(s.lastDirectoryAt, directoryAt);
    let flags = 0;
    if (this.inodeLength > 0 && !read.inode.has(inodeAt)) {
      read.inode.add(inodeAt);
      flags |= READS_INODE;
    }
    if (this.directoryLength > 0 && !read.directory.has(directoryAt)) {
      read.directory.add(directoryAt);
      flags |= READS_DIRECTORY;
    }
    s.first[k] = flags;
  }

  /** The streams costOfLayout already filtered at B (from another layout), looked up by path. */
  private compileByPaths(B: number): CompiledStream[] {
    const u = this.universe;
    // the layout predictLayout gives at B: its files and block size are all the replay looks up
    const layout = predictLayout(u, { order: [], placement: 'beginning', unfragmented: new Set(), blockSize: B }).layout;
    const index = indexLayout(layout);
    const cache = (this.objective.reaching ??= new Map());
    let reaching: FileAccess[][] | undefined = cache.get(B);
    if (reaching === undefined) cache.set(B, (reaching = this.objective.streams.map((s) => accessesReachingDrive(index, s))));
    const slots = predictedSlots(u);
    const fileOfSlot = new Int32Array(layout.files.length).fill(-1);
    slots.forEach((slot, f) => (fileOfSlot[slot] = f));
    const nFiles = Math.max(1, layout.files.length);
    return reaching.map((accesses): CompiledStream => {
      const s = emptyStream(accesses.length);
      const seen = new Uint8Array(layout.files.length);
      const metadataRead = { inode: new Set<number>(), directory: new Set<number>() };
      let k = 0;
      for (const access of accesses) {
        const slot = index.byPath.get(access.path);
        if (slot === undefined) continue; // missing from the layout: replayOnLayout skips it
        const entry = layout.files[slot]!;
        const from = Math.max(0, access.offset ?? 0);
        s.file[k] = fileOfSlot[slot]!;
        s.from[k] = from;
        s.to[k] = access.length === undefined ? entry.size : Math.min(entry.size, from + Math.max(0, access.length));
        if (seen[slot] === 0) {
          seen[slot] = 1;
          this.noteMetadata(s, k, slot / nFiles, metadataRead);
        }
        k++;
      }
      s.count = k;
      return s;
    });
  }

  /** Where everything goes in this plan: predictLayout's walk, with positions instead of extents. */
  private place(shape: PlanShape, model: BlockModel): Placed {
    const u = this.universe;
    const n = u.files.length;
    const B = model.B;
    let placed = this.placed;
    if (placed === undefined || placed.blockStart.length < model.blockLength.length) {
      placed = {
        blockStart: new Float64Array(Math.max(model.blockLength.length, placed?.blockStart.length ?? 0)),
        loneStart: new Float64Array(n),
        fragmentStart: new Float64Array(n),
        fragmentLength: new Float64Array(n),
        inodeStart: 0,
        directoryStart: 0,
        size: 0,
        squashfsBytes: 0,
      };
      this.placed = placed;
    }
    placed.loneStart.fill(NaN);
    placed.fragmentStart.fill(NaN);
    const { blockStart, loneStart, fragmentStart, fragmentLength } = placed;
    const { kind, blockFirst, blockCount, blockLength, loneLength, tailRaw, tailPacked } = model;
    const base = u.prefixBytes;
    let cursor = 0;
    if (base > 0) cursor += base;
    cursor += SUPERBLOCK_BYTES;
    const restBytes = u.rest.dataBytes + u.rest.tailBytes;
    const restTailRaw = u.rest.ratio > 0 ? u.rest.tailBytes / u.rest.ratio : 0;
    if (shape.placement === 'end') cursor = afterLump(cursor, restBytes);

    // predictLayout's sequence: the order without repeats or strays, then every file it leaves out
    const listed = this.listed;
    listed.fill(0);
    const sequence = this.sequence;
    let length = 0;
    const order = shape.order;
    for (let i = 0; i < order.length; i++) {
      const f = order[i]!;
      if (f >= 0 && f < n && listed[f] === 0) {
        listed[f] = 1;
        sequence[length++] = f;
      }
    }
    for (let f = 0; f < n; f++) if (listed[f] === 0) sequence[length++] = f;
    // listed now marks the unfragmented files (small ones only count)
    listed.fill(0);
    for (const f of shape.unfragmented) if (f >= 0 && f < n) listed[f] = 1;

    // the pending fragment block, as SquashfsWriter keeps it
    const pending = this.pending;
    let pendingCount = 0;
    let pendingRaw = 0;
    let pendingBytes = 0;
    for (let i = 0; i < length; i++) {
      const f = sequence[i]!;
      const k = kind[f]!;
      if (k === LARGE) {
        for (let b = blockFirst[f]!, end = b + blockCount[f]!; b < end; b++) {
          blockStart[b] = cursor;
          cursor += blockLength[b]!;
        }
      } else if (k === SMALL) {
        if (listed[f] === 1) {
          loneStart[f] = cursor;
          cursor += loneLength[f]!;
          continue;
        }
        const raw = tailRaw[f]!;
        if (pendingRaw + raw > B && pendingCount > 0) {
          cursor = this.writeFragment(placed, pendingCount, pendingBytes, cursor);
          pendingCount = 0;
          pendingRaw = 0;
          pendingBytes = 0;
        }
        pending[pendingCount++] = f;
        pendingRaw += raw;
        pendingBytes += tailPacked[f]!;
      }
    }

    if (shape.placement === 'beginning') {
      // the pending fragment block is written once the first unprofiled tails fill it up
      const room = Math.max(0, B - pendingRaw);
      const before = restTailRaw > 0 ? Math.min(1, room / restTailRaw) : 1;
      cursor = afterLump(cursor, u.rest.dataBytes * before);
      pendingBytes += Math.min(room, restTailRaw) * u.rest.ratio;
      if (pendingCount > 0) cursor = this.writeFragment(placed, pendingCount, pendingBytes, cursor);
      cursor = afterLump(cursor, u.rest.dataBytes * (1 - before) + Math.max(0, u.rest.tailBytes - Math.min(room, restTailRaw) * u.rest.ratio));
    } else if (pendingCount > 0) {
      cursor = this.writeFragment(placed, pendingCount, pendingBytes, cursor);
    }
    placed.inodeStart = cursor;
    cursor = afterLump(cursor, u.metadata.inode);
    placed.directoryStart = cursor;
    cursor = afterLump(cursor, u.metadata.directory);
    cursor = afterLump(cursor, u.metadata.other);
    placed.size = cursor;
    placed.squashfsBytes = cursor - base;
    return placed;
  }

  /** Write the pending fragment block (its members are pending[0, count)) at `cursor`; the cursor after it. */
  private writeFragment(placed: Placed, count: number, bytes: number, cursor: number): number {
    const length = Math.max(1, Math.round(bytes));
    for (let i = 0; i < count; i++) {
      const f = this.pending[i]!;
      placed.fragmentStart[f] = cursor;
      placed.fragmentLength[f] = length;
    }
    return cursor + length;
  }

  /**
   * replayOnLayout on the placed plan, through the page cache: the requests that reach the drive.
   * Each read squashfs issues goes straight into the cache (throughPageCache's, read by read).
   */
  private replay(stream: CompiledStream, model: BlockModel, placed: Placed): Reads {
    const out = this.reads;
    out.clear();
    const B = model.B;
    const kind = model.kind;
    const inodeLength = this.inodeLength;
    const directoryLength = this.directoryLength;
    // the page cache is as large as the image, or as the furthest read (a metadata block past the end)
    let cacheSize = placed.size;
    if (inodeLength > 0) cacheSize = Math.max(cacheSize, placed.inodeStart + stream.lastInodeAt + METADATA_BLOCK);
    if (directoryLength > 0) cacheSize = Math.max(cacheSize, placed.directoryStart + stream.lastDirectoryAt + METADATA_BLOCK);
    const cache = new PageCache(cacheSize, this.objective.kernel);
    for (let i = 0; i < stream.count; i++) {
      const f = stream.file[i]!;
      const metadata = stream.first[i]!;
      if (metadata !== 0) {
        // a metadata block the stream read before is in the page cache: only new ones are read
        if ((metadata & READS_INODE) !== 0) cache.read(placed.inodeStart + stream.inodeAt[i]!, METADATA_BLOCK, -1, i, out);
        if ((metadata & READS_DIRECTORY) !== 0) cache.read(placed.directoryStart + stream.directoryAt[i]!, METADATA_BLOCK, -1, i, out);
      }
      const from = stream.from[i]!;
      const to = stream.to[i]!;
      if (to <= from || f < 0) continue; // opened, never read (an empty slot has no bytes to read)
      if (kind[f] === LARGE) {
        // a large file's blocks, in order; its tail is a block of its own, never in a fragment
        const firstBlock = Math.floor(from / B);
        const lastBlock = Math.max(firstBlock, Math.ceil(to / B) - 1);
        const first = model.blockFirst[f]!;
        const count = model.blockCount[f]!;
        for (let block = firstBlock; block <= lastBlock && block < count; block++) {
          cache.read(placed.blockStart[first + block]!, model.blockLength[first + block]!, f, i, out);
        }
        continue;
      }
      const lone = placed.loneStart[f]!;
      if (lone === lone) cache.read(lone, model.loneLength[f]!, f, i, out);
      else cache.read(placed.fragmentStart[f]!, placed.fragmentLength[f]!, f, i, out);
    }
    return out.view();
  }
}

const LARGE = 1;
const SMALL = 2;
const READS_INODE = 1;
const READS_DIRECTORY = 2;

/** The cursor after a lump of `bytes` (rounded; none when empty), as predictLayout places it. */
function afterLump(cursor: number, bytes: number): number {
  const length = Math.round(bytes);
  return length > 0 ? cursor + length : cursor;
}

/** A metadata table's length in the predicted layout (a lump rounded to bytes; none when empty). */
function tableLength(bytes: number): number {
  const length = Math.round(bytes);
  return length > 0 ? length : 0;
}

/** Whether `shape` is the plan `known` (whose order was `order` when it was costed). */
function sameShape(known: PlanShape, order: readonly number[], shape: PlanShape): boolean {
  const n = order.length;
  if (known.blockSize !== shape.blockSize || known.placement !== shape.placement || n !== shape.order.length) return false;
  if (known.unfragmented.size !== shape.unfragmented.size) return false;
  // most other plans differ at one of these (a deferred file is last): look at the rest only then
  if (n > 0 && (order[0] !== shape.order[0] || order[n - 1] !== shape.order[n - 1] || order[n >> 1] !== shape.order[n >> 1])) return false;
  for (let i = 0; i < n; i++) if (order[i] !== shape.order[i]) return false;
  for (const f of shape.unfragmented) if (!known.unfragmented.has(f)) return false;
  return true;
}

/** Past this many blocks (sizes a manifest may claim), the streams are filtered by accessesReachingDrive's sets. */
const MAX_BITMAP_BLOCKS = 1 << 26;

/** Blocks of all the universe's files at B, as the bitmap of compileByFiles numbers them. */
function blockCountAt(u: Universe, B: number): number {
  let total = 0;
  for (const f of u.files) total += Math.ceil(f.size / B);
  return total;
}

function emptyStream(capacity: number): CompiledStream {
  return {
    count: 0,
    lastInodeAt: -Infinity,
    lastDirectoryAt: -Infinity,
    file: new Int32Array(capacity),
    from: new Float64Array(capacity),
    to: new Float64Array(capacity),
    first: new Uint8Array(capacity),
    inodeAt: new Float64Array(capacity),
    directoryAt: new Float64Array(capacity),
  };
}

/** Where replayOnLayout reads a file's inode (or directory entry): its metadata block, by walk rank. */
function metadataAt(total: number, rank: number): number {
  if (total <= 0) return 0;
  const position = Math.min(total - 1, Math.floor(rank * total));
  return Math.max(0, position - (position % METADATA_BLOCK));
}
