import { extentsInRange, type Extent, type ExtentKind, type Layout } from '../image/layout.js';
import type { AccessKind } from '../trace/map-output-format.js';
import type { BlockEvent, FileEvent, Trace } from '../trace/types.js';
import { chooseDeviceCoordinates, type DeviceChoice, type DeviceOverrides } from './devices.js';
import { assessOwners, type BlockOwners, type BlockRequest, type OwnerAssessment } from './evidence.js';
import { checkInodeEvents } from './inode-match.js';
import { keepSquashfsPathEvents } from './tracefs-paths.js';
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
 * - a file event with a path passes through;
 * - with `owners: 'evidence'` (the default), only the owners of a block that the trace shows were
 *   wanted are named (evidence.ts): files read only by readahead, or sharing a fragment block with a
 *   file that was wanted, are left out and counted in `owners`.
 */

export interface MapOptions {
  /** Per-device coordinates that win over the defaults (devices.ts). */
  devices?: DeviceOverrides;
  /** Devices ("7:0") whose inode numbers are the squashfs's; learned from the trace when absent. */
  squashfsDevices?: readonly string[];
  /**
   * Which owners of a block read become accesses: 'evidence' (default) the ones the trace shows were
   * wanted (evidence.ts); 'all' every owner of every block read (every sharer of a fragment block,
   * every file a readahead window ran over), as before.
   */
  owners?: BlockOwners;
}

/** What the owner rule kept and left out, for the caller to report (on stderr). */
export interface OwnerStats {
  mode: BlockOwners;
  /** Files with evidence that some block read of the trace touched or a file event named. */
  evidenced: number;
  /** Files whose blocks were read without evidence that they were wanted (left out in 'evidence' mode). */
  weak: number;
  /** ... of which: co-owners of a fragment block another, evidenced, file was read for. */
  weakFragment: number;
  /** ... of which: only run over by readahead (the rest). */
  weakReadahead: number;
  /** Paths of the weak files, in order of their first block read. */
  weakPaths: string[];
  /** Device bytes of blocks read only for weak files. */
  weakBytes: number;
  /** Requests that evidenced a block; readahead windows no request continued. */
  demandReads: number;
  unusedWindows: number;
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
  owners: OwnerStats;
}

export function mapTrace(input: Trace, layout: Layout, options: MapOptions = {}): MappedTrace {
  const inodes = new InodeResolver(layout, input, options.squashfsDevices);
  checkInodeEvents(input, layout, inodes);
  const trace = input.format === 'tracefs' ? keepSquashfsPathEvents(input, layout, inodes) : input;
  const choices = chooseDeviceCoordinates(trace, layout, options.devices);
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
  const mode: BlockOwners = options.owners ?? 'evidence';

  // First pass: where each block read lands and which file each file event names, then the
  // evidence (evidence.ts), which needs the whole trace (a window is wasted if nothing continues it).
  const starts: (number | undefined)[] = [];
  const named: (number | undefined)[] = [];
  const requests: BlockRequest[] = [];
  const namedFirst = new Map<number, number>();
  for (const event of trace.events) {
    if (event.kind === 'block') {
      const choice = choices.get(event.device)!;
      const base = choice.coordinates === 'image' ? 0 : choice.coordinates === 'squashfs' ? layout.squashfsOffset : undefined;
      const start = base === undefined ? undefined : base + event.offset;
      starts.push(start);
      named.push(undefined);
      if (start !== undefined) {
        const request: BlockRequest = { seq: event.seq, device: event.device, start, end: start + Math.max(event.length, 1) };
        if (choice.coordinates === 'squashfs') request.exact = true;
        requests.push(request);
      }
      continue;
    }
    starts.push(undefined);
    const file = event.path === '' ? inodes.resolve(event) : byPath.get(event.path);
    named.push(file);
    if (file !== undefined && !namedFirst.has(file)) namedFirst.set(file, event.seq);
  }
  const assessment = assessOwners(layout, requests, namedFirst);
  const blocks = new BlockMapper(layout, fileEvents, touches, stats, mode === 'evidence' ? assessment : undefined, assessment.evidence);

  trace.events.forEach((event, k) => {
    blocks.release(event);
    if (event.kind === 'block') {
      stats.blockEvents++;
      const start = starts[k];
      if (start === undefined) stats.skippedBlockEvents++;
      else blocks.map(event, start);
      return;
    }
    stats.fileEvents++;
    let path = event.path;
    const file = named[k];
    if (path === '') {
      if (file === undefined) {
        stats.unresolvedInodeEvents++;
        return;
      }
      stats.resolvedInodeEvents++;
      path = layout.files[file]!.path;
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
  });
  blocks.finish();

  return {
    source: trace.source,
    fileEvents,
    touches,
    devices: [...choices.values()],
    inodeDevices: inodes.squashfsDevices,
    stats,
    owners: blocks.ownerStats(mode, assessment),
  };
}

/** FileEvents only: what src/map hands on (docs/formats.md §7). */
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
  /** Block touches of evidenced files read before their evidence, held until that read. */
  private readonly pending = new Map<number, FileTouch[]>();
  /** Files whose blocks were read with no evidence: first touch order; device bytes read only for them. */
  private readonly weak = new Set<number>();
  private weakBytes = 0;

  constructor(
    private readonly layout: Layout,
    private readonly fileEvents: FileEvent[],
    private readonly touches: Touch[],
    private readonly stats: MapStats,
    /** Set in 'evidence' mode: only evidenced owners are named. */
    private readonly assessment: OwnerAssessment | undefined,
    /** Always set: to count weak files in 'all' mode too. */
    private readonly evidence: ReadonlyMap<number, number>,
  ) {
    this.isoFileOffsets = isoFileOffsetsOf(layout);
  }

  /** Before each event: block reads held back for files this event evidences are reported here. */
  release(event: { seq: number; timeNs?: number }): void {
    const files = this.assessment?.evidencedAt.get(event.seq);
    if (files === undefined) return;
    const perFile = new Map<number, [number, number][]>();
    for (const file of files) {
      const held = this.pending.get(file);
      if (held === undefined) continue;
      this.pending.delete(file);
      for (const touch of held) {
        touch.seq = event.seq;
        if (event.timeNs !== undefined) touch.timeNs = event.timeNs;
        else delete touch.timeNs;
        this.touches.push(touch);
        if (touch.range !== undefined) addRange(perFile, file, touch.range);
      }
    }
    this.emitReads(perFile, { seq: event.seq, timeNs: event.timeNs });
  }

  /**
   * Whether a block touch of file `index` at `at` is reported now ('now'), held until the file's
   * evidence ('held'), or left out ('weak'). In 'all' mode every touch is reported; weak files are
   * still counted.
   */
  private admit(index: number, at: At): 'now' | 'held' | 'weak' {
    const ev = this.evidence.get(index);
    if (ev === undefined) {
      this.weak.add(index);
      return this.assessment === undefined ? 'now' : 'weak';
    }
    return this.assessment !== undefined && at.seq < ev ? 'held' : 'now';
  }

  private hold(index: number, touch: FileTouch): void {
    const list = this.pending.get(index);
    if (list === undefined) this.pending.set(index, [touch]);
    else list.push(touch);
  }

  ownerStats(mode: BlockOwners, assessment: OwnerAssessment): OwnerStats {
    let weakFragment = 0;
    for (const i of this.weak) if (assessment.fragmentShared.has(i)) weakFragment++;
    return {
      mode,
      evidenced: assessment.evidence.size,
      weak: this.weak.size,
      weakFragment,
      weakReadahead: this.weak.size - weakFragment,
      weakPaths: [...this.weak].map((i) => this.layout.files[i]!.path),
      weakBytes: this.weakBytes,
      demandReads: assessment.demandReads,
      unusedWindows: assessment.unusedWindows,
    };
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
    // held reads whose evidence never came in seq order (a trace with out-of-order seqs): report them as they were
    for (const [file, held] of this.pending) {
      for (const touch of held) {
        this.touches.push(touch);
        if (touch.range !== undefined) {
          const out: FileEvent = { kind: 'read', seq: touch.seq, path: this.layout.files[file]!.path, offset: touch.range[0], length: touch.range[1] - touch.range[0] };
          if (touch.timeNs !== undefined) out.timeNs = touch.timeNs;
          this.fileEvents.push(out);
        }
      }
      this.late = true;
    }
    this.pending.clear();
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
      const admitted = owners.map((index) => (layout.files[index] === undefined ? 'weak' : this.admit(index, at)));
      const payer = admitted.findIndex((a) => a !== 'weak');
      if (!owners.some((i) => this.evidence.has(i))) this.weakBytes += bytes;
      owners.forEach((index, k) => {
        const file = layout.files[index];
        if (file === undefined || admitted[k] === 'weak') return;
        const range = blockRange(file.size, e.fileBlocks?.[k] ?? e.block ?? 0, layout.blockSize);
        const deviceBytes = k === payer ? bytes : 0;
        // built field by field, not spread from touchBase(): spreading made mapping 5x slower (fuzz: map-202eb798566aa982)
        const touch: FileTouch = { seq: at.seq, via: 'block', target: 'file', path: file.path, file: index, deviceBytes, range, blockKey: e.start };
        if (at.timeNs !== undefined) touch.timeNs = at.timeNs;
        if (admitted[k] === 'held') return this.hold(index, touch);
        touches.push(touch);
        addRange(perFile, index, range);
      });
      return;
    }
    const present = (e.files ?? []).filter((i) => layout.files[i] !== undefined);
    const admitted = present.map((i) => this.admit(i, at));
    const sharers = present.filter((_, k) => admitted[k] !== 'weak');
    if (!present.some((i) => this.evidence.has(i))) this.weakBytes += bytes;
    if (sharers.length === 0) return;
    // split the block's bytes so that per-file figures add up to what the device read
    const share = Math.floor(bytes / sharers.length);
    let k = 0;
    present.forEach((i, p) => {
      if (admitted[p] === 'weak') return;
      const file = layout.files[i]!;
      const range = tailRange(file.size, layout.blockSize);
      const deviceBytes = k === 0 ? bytes - share * (sharers.length - 1) : share;
      k++;
      // sharers: every file of the block (a fact of the image, the profile's shared_with), not only the ones kept
      const touch: FileTouch = { seq: at.seq, via: 'block', target: 'file', path: file.path, file: i, deviceBytes, range, fragmentKey: e.start, sharers: present };
      if (at.timeNs !== undefined) touch.timeNs = at.timeNs;
      if (admitted[p] === 'held') return this.hold(i, touch);
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
