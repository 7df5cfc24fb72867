import { extentsInRange, type Extent, type ExtentKind, type Layout } from '../image/layout.js';
import type { AccessKind } from '../trace/profile-format.js';
import type { BlockEvent, FileEvent, Trace } from '../trace/types.js';
import { chooseDeviceCoordinates, type DeviceChoice, type DeviceOverrides } from './devices.js';
import { InodeResolver } from './inodes.js';

/**
 * Brings every event of a trace to files of one image Layout:
 * - a block read is placed in image coordinates (devices.ts), then split over the extents it
 *   covers (binary search): data blocks give a read of their file (the part of the file the block
 *   holds), a fragment block gives a read of the tail of every file sharing it, metadata extents
 *   (inode and directory tables, ISO directories, ...) are counted as metadata, owned by no file,
 *   and the rest (gaps, 'unknown' extents, past the end) as unmapped;
 * - squashfs decompresses a block only once all of it is read, and device reads rarely stop on
 *   block boundaries (loop bios are rounded to 1 KiB, CD readahead to pages): so a data or
 *   fragment block counts as read by the read that completes it. A read that only grazes a
 *   neighbour's block does not make that neighbour "accessed" ahead of its time. The bytes of
 *   blocks no read completes (the grazed neighbour, or a trace cut short) count as unmapped.
 * - a file event with only an inode gets its path from the Layout (inodes.ts);
 * - a file event with a path passes through.
 */

export interface MapOptions {
  /** Per-device coordinates that win over the defaults (devices.ts). */
  devices?: DeviceOverrides;
  /** Devices ("7:0") whose inode numbers are the squashfs's; learned from the trace when absent. */
  squashfsDevices?: readonly string[];
}

interface TouchBase {
  /** seq of the trace event. */
  seq: number;
  timeNs?: number;
  via: AccessKind;
  /** Bytes of the device read that landed here (0 for file events). */
  deviceBytes: number;
}
export interface FileTouch extends TouchBase {
  target: 'file';
  path: string;
  /** Byte range of the file, [start, end). */
  range?: [number, number];
  /** The squashfs data block the read covered, as its extent start. */
  blockKey?: number;
  /** Start of the fragment block read, when the read covered this file's tail in a fragment. */
  fragmentKey?: number;
  /** layout.files indexes sharing that fragment block (this file included). */
  sharers?: readonly number[];
  /** Index in layout.files, for files the Layout knows. */
  file?: number;
  /** A file stored directly on the ISO: its blocks are the 2048-byte sectors of its ranges. */
  isoFile?: boolean;
}
export interface MetadataTouch extends TouchBase {
  target: 'metadata';
  what: ExtentKind;
}
export interface UnmappedTouch extends TouchBase {
  target: 'unmapped';
}
export type Touch = FileTouch | MetadataTouch | UnmappedTouch;

export interface MapStats {
  blockEvents: number;
  /** Block events of devices chosen 'skip'. */
  skippedBlockEvents: number;
  fileEvents: number;
  resolvedInodeEvents: number;
  /** File events with an inode that no squashfs file has (or on a device that is not the squashfs). */
  unresolvedInodeEvents: number;
  mappedBytes: number;
  metadataBytes: number;
  unmappedBytes: number;
  /** Data or fragment blocks that reads touched only in part and no read completed (their bytes are in unmappedBytes). */
  incompleteBlocks: number;
}

export interface MappedTrace {
  source: string;
  /** Read events for block reads, resolved inode events and path events, in trace order. */
  fileEvents: FileEvent[];
  touches: Touch[];
  devices: DeviceChoice[];
  /** Devices whose inode numbers were resolved through the image. */
  inodeDevices: string[];
  stats: MapStats;
}

export function mapTrace(trace: Trace, layout: Layout, options: MapOptions = {}): MappedTrace {
  const choices = chooseDeviceCoordinates(trace, layout, options.devices);
  const inodes = new InodeResolver(layout, trace, options.squashfsDevices);
  const byPath = pathIndexOf(layout);
  const fileEvents: FileEvent[] = [];
  const touches: Touch[] = [];
  const stats: MapStats = {
    blockEvents: 0,
    skippedBlockEvents: 0,
    fileEvents: 0,
    resolvedInodeEvents: 0,
    unresolvedInodeEvents: 0,
    mappedBytes: 0,
    metadataBytes: 0,
    unmappedBytes: 0,
    incompleteBlocks: 0,
  };
  const blocks = new BlockMapper(layout, fileEvents, touches, stats);

  for (const event of trace.events) {
    if (event.kind === 'block') {
      stats.blockEvents++;
      const choice = choices.get(event.device)!;
      const base = choice.coordinates === 'image' ? 0 : choice.coordinates === 'squashfs' ? layout.squashfsOffset : undefined;
      if (base === undefined) {
        stats.skippedBlockEvents++;
        continue;
      }
      blocks.map(event, base + event.offset);
      continue;
    }
    stats.fileEvents++;
    let path = event.path;
    let file: number | undefined;
    if (path === '') {
      file = inodes.resolve(event);
      if (file === undefined) {
        stats.unresolvedInodeEvents++;
        continue;
      }
      stats.resolvedInodeEvents++;
      path = layout.files[file]!.path;
    } else {
      file = byPath.get(path);
    }
    const resolved: FileEvent = path === event.path ? event : { ...event, path };
    fileEvents.push(resolved);
    const touch: FileTouch = { target: 'file', seq: event.seq, via: event.kind, deviceBytes: 0, path };
    if (event.timeNs !== undefined) touch.timeNs = event.timeNs;
    if (event.offset !== undefined && event.length !== undefined) {
      // page-cache fills and readahead run past the end of the file: keep the part that exists
      const size = file === undefined ? Infinity : layout.files[file]!.size;
      touch.range = [Math.min(event.offset, size), Math.min(event.offset + event.length, size)];
    }
    if (file !== undefined) touch.file = file;
    touches.push(touch);
  }
  blocks.finish();

  return {
    source: trace.source,
    fileEvents,
    touches,
    devices: [...choices.values()],
    inodeDevices: inodes.squashfsDevices,
    stats,
  };
}

/** FileEvents only: the contract of src/map (contracts.md). */
export function blockEventsToFileEvents(trace: Trace, layout: Layout, options: MapOptions = {}): FileEvent[] {
  return mapTrace(trace, layout, options).fileEvents;
}

/** Disjoint pieces of one block read so far; real traces have 2 or 3. */
const MAX_PIECES_PER_BLOCK = 256;

interface PartialBlock {
  /** Parts of the extent read so far, absolute [start, end). */
  covered: [number, number][];
  bytes: number;
  seq: number;
  timeNs: number | undefined;
}

/** Maps block reads to touches and read events, holding blocks that reads have covered only in part. */
class BlockMapper {
  private readonly isoFileOffsets: Map<Extent, number>;
  private readonly partial = new Map<Extent, PartialBlock>();
  /** Touches emitted out of seq order (incomplete blocks, at the end). */
  private late = false;

  constructor(
    private readonly layout: Layout,
    private readonly fileEvents: FileEvent[],
    private readonly touches: Touch[],
    private readonly stats: MapStats,
  ) {
    this.isoFileOffsets = isoFileOffsetsOf(layout);
  }

  map(event: BlockEvent, start: number): void {
    const { layout, touches, stats } = this;
    // A metadata read logged with length 0 (module sqread) still lands on one byte of its table.
    const span = Math.max(event.length, 1);
    const end = start + span;
    const countBytes = event.length > 0;
    const at = { seq: event.seq, timeNs: event.timeNs };
    const perFile = new Map<number, [number, number][]>();
    let cursor = start;
    let unmapped = 0;
    let landed = false;

    for (const e of extentsInRange(layout.extents, start, span)) {
      const a = Math.max(start, e.start);
      const b = Math.min(end, e.start + e.length);
      if (a > cursor) unmapped += a - cursor;
      cursor = Math.max(cursor, b);
      const bytes = countBytes ? b - a : 0;
      if (e.kind !== 'unknown') landed = true;
      const owned =
        (e.kind === 'data-block' && layout.files[e.file ?? -1] !== undefined) ||
        (e.kind === 'fragment-block' && (e.files ?? []).some((i) => layout.files[i] !== undefined)) ||
        (e.kind === 'iso-file' && layout.files[e.file ?? -1] !== undefined);
      if (!owned) {
        if (e.kind === 'unknown' || e.kind === 'data-block' || e.kind === 'fragment-block' || e.kind === 'iso-file') {
          unmapped += bytes;
        } else {
          touches.push({ ...touchBase(at), target: 'metadata', what: e.kind, deviceBytes: bytes });
          stats.metadataBytes += bytes;
        }
        continue;
      }
      stats.mappedBytes += bytes;
      if (e.kind === 'iso-file') {
        this.isoFileRead(e, a, b, bytes, at, perFile);
        continue;
      }
      const done = countBytes ? this.cover(e, a, b, bytes, at) : { bytes: 0, ...at };
      if (done !== undefined) this.blockRead(e, done.bytes, done, perFile);
    }
    if (cursor < end) unmapped += end - cursor;
    if (countBytes ? unmapped > 0 : !landed) {
      touches.push({ ...touchBase(at), target: 'unmapped', deviceBytes: countBytes ? unmapped : 0 });
      stats.unmappedBytes += countBytes ? unmapped : 0;
    }
    this.emitReads(perFile, at);
  }

  /** Blocks no read completed were not read for any file: their bytes are unmapped, at their first partial read. */
  finish(): void {
    for (const p of this.partial.values()) {
      this.stats.incompleteBlocks++;
      this.stats.mappedBytes -= p.bytes;
      this.stats.unmappedBytes += p.bytes;
      this.touches.push({ ...touchBase(p), target: 'unmapped', deviceBytes: p.bytes });
      this.late = true;
    }
    this.partial.clear();
    // Array.prototype.sort is stable: touches of one seq keep their order
    if (this.late) this.touches.sort((x, y) => x.seq - y.seq);
  }

  /** Adds [a, b) to what was read of block extent e; the read that completes it gets the block. */
  private cover(e: Extent, a: number, b: number, bytes: number, at: At): { bytes: number; seq: number; timeNs: number | undefined } | undefined {
    const end = e.start + e.length;
    let p = this.partial.get(e);
    if (p === undefined) {
      if (a <= e.start && b >= end) return { bytes, ...at };
      p = { covered: [], bytes: 0, seq: at.seq, timeNs: at.timeNs };
      this.partial.set(e, p);
    }
    p.covered.push([a, b]);
    if (p.covered.length > 1) p.covered = mergeRanges(p.covered);
    p.bytes += bytes;
    // A hostile trace of many tiny disjoint reads must not make this quadratic: past a cap, call it read.
    const whole =
      (p.covered.length === 1 && p.covered[0]![0] <= e.start && p.covered[0]![1] >= end) ||
      p.covered.length > MAX_PIECES_PER_BLOCK;
    if (!whole) return undefined;
    this.partial.delete(e);
    return { bytes: p.bytes, ...at };
  }

  private blockRead(e: Extent, bytes: number, at: At, perFile: Map<number, [number, number][]>): void {
    const { layout, touches } = this;
    if (e.kind === 'data-block') {
      // a block shared by several files (gensquashfs shares runs of blocks) lists every owner, each at its own block number
      const owners = e.files ?? [e.file!];
      owners.forEach((index, k) => {
        const file = layout.files[index];
        if (file === undefined) return;
        const range = blockRange(file.size, e.fileBlocks?.[k] ?? e.block ?? 0, layout.blockSize);
        const deviceBytes = k === 0 ? bytes : 0;
        // built field by field, not spread from touchBase(): spreading made mapping 5x slower (fuzz: map-202eb798566aa982)
        const touch: FileTouch = { seq: at.seq, via: 'block', target: 'file', path: file.path, file: index, deviceBytes, range, blockKey: e.start };
        if (at.timeNs !== undefined) touch.timeNs = at.timeNs;
        touches.push(touch);
        addRange(perFile, index, range);
      });
      return;
    }
    const sharers = (e.files ?? []).filter((i) => layout.files[i] !== undefined);
    // split the block's bytes so that per-file figures add up to what the device read
    const share = Math.floor(bytes / sharers.length);
    sharers.forEach((i, k) => {
      const file = layout.files[i]!;
      const range = tailRange(file.size, layout.blockSize);
      const deviceBytes = k === 0 ? bytes - share * (sharers.length - 1) : share;
      const touch: FileTouch = { seq: at.seq, via: 'block', target: 'file', path: file.path, file: i, deviceBytes, range, fragmentKey: e.start, sharers };
      if (at.timeNs !== undefined) touch.timeNs = at.timeNs;
      touches.push(touch);
      addRange(perFile, i, range);
    });
  }

  /** Files stored on the ISO (kernel, initrd) are read by the boot loader or as plain files: every byte counts. */
  private isoFileRead(e: Extent, a: number, b: number, bytes: number, at: At, perFile: Map<number, [number, number][]>): void {
    const file = this.layout.files[e.file!]!;
    const fileStart = (this.isoFileOffsets.get(e) ?? 0) + (a - e.start);
    const range: [number, number] = [fileStart, Math.min(file.size, fileStart + (b - a))];
    // files on the ISO start on a 2048-byte sector: the profile counts sectors from the ranges
    this.touches.push({ ...touchBase(at), target: 'file', path: file.path, file: e.file!, deviceBytes: bytes, range, isoFile: true });
    addRange(perFile, e.file!, range);
  }

  private emitReads(perFile: Map<number, [number, number][]>, at: At): void {
    for (const [file, ranges] of perFile) {
      for (const [s, e] of mergeRanges(ranges)) {
        const out: FileEvent = { kind: 'read', seq: at.seq, path: this.layout.files[file]!.path, offset: s, length: e - s };
        if (at.timeNs !== undefined) out.timeNs = at.timeNs;
        this.fileEvents.push(out);
      }
    }
  }
}

interface At {
  seq: number;
  timeNs: number | undefined;
}

function touchBase(at: At): { seq: number; via: 'block'; timeNs?: number } {
  return at.timeNs === undefined ? { seq: at.seq, via: 'block' } : { seq: at.seq, via: 'block', timeNs: at.timeNs };
}

function addRange(perFile: Map<number, [number, number][]>, file: number, range: [number, number]): void {
  const list = perFile.get(file);
  if (list === undefined) perFile.set(file, [range]);
  else list.push(range);
}

/** The part of a file that squashfs data block `block` holds. */
function blockRange(size: number, block: number, blockSize: number | undefined): [number, number] {
  if (blockSize === undefined) return [0, size];
  const s = Math.min(size, block * blockSize);
  return [s, Math.min(size, s + blockSize)];
}

/** The tail of a file, which squashfs stores in a fragment block. */
function tailRange(size: number, blockSize: number | undefined): [number, number] {
  if (blockSize === undefined) return [0, size];
  const s = Math.floor(size / blockSize) * blockSize;
  return s === size && size > 0 ? [Math.max(0, size - blockSize), size] : [s, size];
}

/** Sort and merge [start, end) ranges that touch or overlap. */
export function mergeRanges(ranges: [number, number][]): [number, number][] {
  if (ranges.length <= 1) return ranges.slice();
  const sorted = ranges.slice().sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: [number, number][] = [[sorted[0]![0], sorted[0]![1]]];
  for (let i = 1; i < sorted.length; i++) {
    const [s, e] = sorted[i]!;
    const last = out[out.length - 1]!;
    if (s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

const pathIndexCache = new WeakMap<Layout, Map<string, number>>();
function pathIndexOf(layout: Layout): Map<string, number> {
  let map = pathIndexCache.get(layout);
  if (map === undefined) {
    map = new Map();
    for (let i = 0; i < layout.files.length; i++) if (!map.has(layout.files[i]!.path)) map.set(layout.files[i]!.path, i);
    pathIndexCache.set(layout, map);
  }
  return map;
}

/** For files stored directly on the ISO: the file offset where each of their extents starts. */
const isoOffsetCache = new WeakMap<Layout, Map<Extent, number>>();
function isoFileOffsetsOf(layout: Layout): Map<Extent, number> {
  let map = isoOffsetCache.get(layout);
  if (map !== undefined) return map;
  map = new Map();
  const done = new Map<number, number>();
  for (const e of layout.extents) {
    if (e.kind !== 'iso-file' || e.file === undefined) continue;
    const before = done.get(e.file) ?? 0;
    map.set(e, before);
    done.set(e.file, before + e.length);
  }
  isoOffsetCache.set(layout, map);
  return map;
}
