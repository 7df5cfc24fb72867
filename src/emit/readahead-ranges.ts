import { findExtentIndex, type Extent, type ExtentKind, type Layout } from '../image/layout.js';
import { matchSquashfsReads } from '../map/image-match.js';
import { mapTrace, mergeRanges } from '../map/index.js';
import { compileExcludes, normalizePath, stripPrefix } from '../profile/filters.js';
import { resolveRegularFile } from '../tree/resolve.js';
import type { TreeView } from '../tree/tree-view.js';
import { dataOwner, indexLayout, type LayoutIndex } from '../image/layout-index.js';
import type { Trace } from '../trace/types.js';
import { coalesce, READAHEAD_METADATA, totalLength, type ByteRange } from './readahead.js';

/**
 * The byte ranges of an image that a boot read, from the profile's own read ranges: for each
 * file, the compressed blocks whose uncompressed span overlaps what the boot read of it (and the
 * fragment block when it read the tail), plus the squashfs metadata the boot read. The whole-file
 * variant (readaheadRanges in readahead.ts) reads every block of every profiled file instead.
 */

/** Files stored directly on an ISO are read in 2048-byte sectors. */
export const ISO_SECTOR = 2048;
/** A squashfs metadata block: a 2-byte header (bit 15: stored uncompressed) and at most 8 KiB. */
export const METADATA_BLOCK_MAX = 2 + 8192;
/** The squashfs's own metadata kinds: what a sqread event outside the data can land on. */
const SQUASHFS_METADATA: ReadonlySet<ExtentKind> = new Set<ExtentKind>([
  'superblock',
  'compressor-options',
  'inode-table',
  'directory-table',
  'fragment-table',
  'export-table',
  'id-table',
  'xattr-table',
]);
/**
 * Read whole when the trace does not say which metadata blocks the boot read: the four tables
 * every lookup needs, and the superblock (with the compressor options) that the mount reads.
 */
export const WHOLE_METADATA: readonly ExtentKind[] = ['superblock', 'compressor-options', ...READAHEAD_METADATA];

/** Below this many squashfs data-block reads, every one must start on a block of the image. */
const FEW_READS = 8;

/** What one file contributes: file byte ranges [start, end) it read, or the whole file. */
export interface FileReads {
  /** Index in Layout.files. */
  file: number;
  ranges: readonly (readonly [number, number])[] | 'whole';
}

/** Per file: its data blocks in block order, shared blocks listed under every owner. */
export class BlockIndex {
  readonly index: LayoutIndex;
  private readonly blocks: { block: number; extent: Extent }[][];

  constructor(readonly layout: Layout) {
    this.index = indexLayout(layout);
    const n = layout.files.length;
    this.blocks = Array.from({ length: n }, () => []);
    for (const e of layout.extents) {
      if (e.kind !== 'data-block') continue;
      const owners = e.files ?? (e.file === undefined ? [] : [e.file]);
      owners.forEach((f, k) => {
        if (f >= 0 && f < n) this.blocks[f]!.push({ block: e.fileBlocks?.[k] ?? e.block ?? 0, extent: e });
      });
    }
    for (const list of this.blocks) if (list.length > 1) list.sort((a, b) => a.block - b.block || a.extent.start - b.extent.start);
  }

  /**
   * The physical ranges (absolute in the image) that hold `ranges` of file `file`: squashfs data
   * blocks whose span [k*blockSize, (k+1)*blockSize) overlaps a range, whole; the fragment block
   * when a range reaches the tail; for a file on the ISO, the 2048-byte sectors read.
   */
  physicalRanges(file: number, ranges: FileReads['ranges']): ByteRange[] {
    const entry = this.layout.files[file];
    if (entry === undefined) return [];
    const owner = dataOwner(this.index, file);
    const size = this.layout.files[owner]?.size ?? entry.size;
    const wanted = ranges === 'whole' ? [[0, size] as [number, number]] : clip(ranges, size);
    if (wanted.length === 0) return [];
    const out: ByteRange[] = [];
    if (entry.layer === 'iso') {
      let base = 0;
      for (const e of this.index.data[owner] ?? []) {
        const end = e.start + Math.ceil(e.length / ISO_SECTOR) * ISO_SECTOR;
        for (const [s, t] of wanted) {
          const a = Math.max(s, base);
          const b = Math.min(t, base + e.length);
          if (b <= a) continue;
          const from = e.start + Math.floor((a - base) / ISO_SECTOR) * ISO_SECTOR;
          const to = Math.min(end, e.start + Math.ceil((b - base) / ISO_SECTOR) * ISO_SECTOR);
          out.push({ offset: from, length: to - from });
        }
        base += e.length;
      }
      return out;
    }
    const blockSize = this.layout.blockSize !== undefined && this.layout.blockSize > 0 ? this.layout.blockSize : 131072;
    // both lists are sorted: one sweep
    let r = 0;
    for (const { block, extent } of this.blocks[owner] ?? []) {
      const from = block * blockSize;
      const to = from + blockSize;
      while (r < wanted.length && wanted[r]![1] <= from) r++;
      if (r === wanted.length) break;
      if (wanted[r]![0] < to) out.push({ offset: extent.start, length: extent.length });
    }
    const tailStart = Math.floor(size / blockSize) * blockSize;
    const last = wanted[wanted.length - 1]!;
    if (size > tailStart && last[1] > tailStart) {
      for (const e of this.index.fragments[owner] ?? []) out.push({ offset: e.start, length: e.length });
    }
    return out;
  }
}

/** Sorted, merged, within [0, size), empty ranges dropped. */
function clip(ranges: readonly (readonly [number, number])[], size: number): [number, number][] {
  const out: [number, number][] = [];
  for (const [s, e] of ranges) {
    const a = Math.max(0, s);
    const b = Math.min(size, e);
    if (b > a) out.push([a, b]);
  }
  return mergeRanges(out);
}

/** Does a trace's record of squashfs block reads (the module's sqread events) belong to this image? */
export type ImageEvidence =
  /** The trace has no squashfs block reads. */
  | 'none'
  /** Its data-block reads start on blocks of this image: recorded on it. */
  | 'same'
  /** They do not: recorded on another image (a rebuilt, re-sorted one). */
  | 'other'
  /** It has squashfs block reads but none of data blocks: nothing to check them against. */
  | 'unconfirmed';

export interface SquashfsReadsCheck {
  evidence: ImageEvidence;
  /** Squashfs block reads in the trace. */
  reads: number;
  /** Data-block reads checked, and how many start on a block of the image. */
  checked: number;
  aligned: number;
  /** Devices of those reads ("7:0"): the squashfs's. */
  devices: string[];
}

/**
 * matchSquashfsReads (src/map/image-match.ts) with a stricter reading of short traces: it accepts
 * any trace with fewer than 8 data reads; for metadata we want every one of them aligned.
 */
export function checkSquashfsReads(trace: Trace, layout: Layout): SquashfsReadsCheck {
  let reads = 0;
  const devices = new Set<string>();
  for (const e of trace.events) {
    if (e.kind === 'block' && e.squashfsOffset === true) {
      reads++;
      devices.add(e.device);
    }
  }
  if (reads === 0) return { evidence: 'none', reads, checked: 0, aligned: 0, devices: [] };
  const match = matchSquashfsReads(trace, layout);
  const { checked, aligned } = match;
  let evidence: ImageEvidence;
  if (!match.matches) evidence = 'other';
  else if (checked >= FEW_READS) evidence = 'same';
  else if (checked === 0) evidence = 'unconfirmed';
  else evidence = aligned === checked ? 'same' : 'other';
  return { evidence, reads, checked, aligned, devices: [...devices] };
}

export interface MetadataReads {
  /** Absolute byte ranges of the metadata read, merged, in position order. */
  ranges: ByteRange[];
  /** Squashfs block reads that landed on metadata. */
  reads: number;
}

/**
 * The squashfs metadata a trace's sqread events read, in image coordinates: every read that lands
 * on a metadata extent (superblock, tables, lookup indexes). The module logs a metadata block read
 * with length 0: its length is then its 2-byte header's (read through `readAt` when the image is
 * at hand), else the largest a metadata block can be, within its extent.
 * Only meaningful for a trace recorded on this image (checkSquashfsReads).
 */
export function squashfsMetadataReads(trace: Trace, layout: Layout, readAt?: (offset: number, length: number) => Buffer): MetadataReads {
  const base = layout.squashfsOffset ?? 0;
  const raw: [number, number][] = [];
  let reads = 0;
  for (const event of trace.events) {
    if (event.kind !== 'block' || event.squashfsOffset !== true) continue;
    const at = base + event.offset;
    const i = findExtentIndex(layout.extents, at);
    const extent = i < 0 ? undefined : layout.extents[i];
    if (extent === undefined || !SQUASHFS_METADATA.has(extent.kind)) continue;
    reads++;
    const extentEnd = extent.start + extent.length;
    let length = event.length;
    if (length === 0) length = metadataBlockLength(at, extentEnd, readAt);
    raw.push([at, Math.min(extentEnd, at + length)]);
  }
  return { ranges: mergeRanges(raw).map(([s, e]) => ({ offset: s, length: e - s })), reads };
}

function metadataBlockLength(at: number, limit: number, readAt?: (offset: number, length: number) => Buffer): number {
  if (readAt === undefined || at + 2 > limit) return METADATA_BLOCK_MAX;
  const header = readAt(at, 2).readUInt16LE(0);
  const size = header & 0x7fff;
  // 0 or more than 8 KiB is not a valid header: read the most a block can be
  return size === 0 || size > METADATA_BLOCK_MAX - 2 ? METADATA_BLOCK_MAX : 2 + size;
}

export interface BootRangesOptions {
  /** Ranges closer than this many bytes are read as one. */
  gap: number;
  /** Subtracted from every offset (the squashfs position in the ISO, for loopback offsets); ranges before it are dropped. */
  base: number;
}

export interface BootRanges {
  /** What to read: coalesced, in position order, relative to `base`. */
  ranges: ByteRange[];
  /** Bytes of `ranges` (gaps included). */
  bytes: number;
  /** Bytes of the blocks that hold what the boot read (no gaps). */
  dataBytes: number;
  /** Bytes of the metadata (no gaps, not counting metadata that data ranges already hold). */
  metadataBytes: number;
  /** Files that contributed data. */
  filesWithData: number;
}

/**
 * The ranges to read ahead: the physical blocks of every file's read ranges, plus `metadata`
 * (absolute ranges, e.g. squashfsMetadataReads), or 'tables' for WHOLE_METADATA read whole.
 */
export function bootReadRanges(
  blocks: BlockIndex,
  files: readonly FileReads[],
  metadata: readonly ByteRange[] | 'tables',
  options: BootRangesOptions,
): BootRanges {
  const data: ByteRange[] = [];
  let filesWithData = 0;
  for (const f of files) {
    const r = blocks.physicalRanges(f.file, f.ranges);
    if (r.length > 0) filesWithData++;
    data.push(...r);
  }
  const meta: ByteRange[] = [];
  if (metadata === 'tables') {
    const kinds = new Set(WHOLE_METADATA);
    for (const e of blocks.layout.extents) if (kinds.has(e.kind)) meta.push({ offset: e.start, length: e.length });
  } else {
    meta.push(...metadata);
  }
  const within = (list: readonly ByteRange[]): ByteRange[] => clipBelow(list, options.base);
  const dataOnly = coalesce(within(data), 0);
  const all = coalesce(within([...data, ...meta]), 0);
  const dataBytes = totalLength(dataOnly);
  const ranges = coalesce(all, options.gap).map((r) => ({ offset: r.offset - options.base, length: r.length }));
  return { ranges, bytes: totalLength(ranges), dataBytes, metadataBytes: totalLength(all) - dataBytes, filesWithData };
}

function clipBelow(list: readonly ByteRange[], base: number): ByteRange[] {
  if (base === 0) return [...list];
  const out: ByteRange[] = [];
  for (const r of list) {
    const end = r.offset + r.length;
    if (end <= base) continue;
    const offset = Math.max(base, r.offset);
    out.push({ offset, length: end - offset });
  }
  return out;
}

export interface CollectOptions {
  layout: Layout;
  /** The squashfs tree, to resolve profile paths as the guest did (symlinks, merged /usr). */
  tree: TreeView;
  excludes: readonly string[];
  stripPrefixes: readonly string[];
  /** false (--no-block-events): only the events that name a path; no block reads, no inode-only events. */
  blockEvents: boolean;
  /** The image's bytes, to size metadata blocks from their headers (absent for a manifest). */
  readAt?: (offset: number, length: number) => Buffer;
}

export interface TraceReads {
  source: string;
  check: SquashfsReadsCheck;
  /** False when the trace names files but carries no byte range at all (a bootlog.list): its files count whole. */
  ranged: boolean;
  /** Events that named an inode no squashfs file has (or on another device). */
  unresolvedInodeEvents: number;
}

export interface CollectedReads {
  /** Per file of the layout that the traces read (or name, for traces without ranges), in layout order. */
  files: FileReads[];
  /** Files the traces touched without reading any of their bytes (opened, executed, stat'ed). */
  openedOnly: number[];
  traces: TraceReads[];
  /**
   * The metadata the boot read, absolute in the image, when every trace shows it (sqread events
   * recorded on this image); 'tables' when one does not (then the tables are read whole).
   */
  metadata: ByteRange[] | 'tables';
  /** Squashfs block reads that landed on metadata (when `metadata` is not 'tables'). */
  metadataReads: number;
  /**
   * The traces with squashfs block reads of another image left out (they would name unrelated
   * files): what the profile of files should be built from.
   */
  profileTraces: Trace[];
}

/**
 * What each trace read of which file, in this layout's terms. File events (read, fault: file
 * offset and length; a map profile's ranges) give file ranges; events that only name a file
 * (open, exec) add nothing. Inode-only events resolve through the layout, and block reads of
 * another kind than the module's squashfs reads (qemu, blktrace) through its extents. The
 * module's squashfs reads give the metadata, when they were recorded on this image.
 */
export function collectBootReads(traces: readonly Trace[], options: CollectOptions): CollectedReads {
  const { layout } = options;
  const excludes = compileExcludes(options.excludes);
  const byPath = new Map<string, number>();
  layout.files.forEach((f, i) => {
    if (f.layer === 'squashfs' && !byPath.has(f.path)) byPath.set(f.path, i);
  });
  const resolved = new Map<string, number | undefined>();
  const resolve = (guestPath: string): number | undefined => {
    if (resolved.has(guestPath)) return resolved.get(guestPath);
    const path = normalizePath(stripPrefix(guestPath, options.stripPrefixes));
    let file: number | undefined;
    if (!excludes.some((re) => re.test(path))) {
      const res = resolveRegularFile(options.tree, path);
      if (res.ok) file = byPath.get(`/${res.rel}`);
    }
    resolved.set(guestPath, file);
    return file;
  };

  const ranges = new Map<number, [number, number][] | 'whole'>();
  const touched = new Set<number>();
  const addRange = (file: number, range: [number, number]): void => {
    const list = ranges.get(file);
    if (list === 'whole') return;
    if (list === undefined) ranges.set(file, [range]);
    else list.push(range);
  };
  const out: TraceReads[] = [];
  const profileTraces: Trace[] = [];
  const metadata: [number, number][] = [];
  let metadataReads = 0;
  let allShowMetadata = traces.length > 0;

  for (const trace of traces) {
    const check = options.blockEvents ? checkSquashfsReads(trace, layout) : { ...NO_CHECK };
    if (check.evidence === 'same') {
      const m = squashfsMetadataReads(trace, layout, options.readAt);
      metadataReads += m.reads;
      for (const r of m.ranges) metadata.push([r.offset, r.offset + r.length]);
    } else {
      allShowMetadata = false;
    }
    // The squashfs reads of another image would name unrelated files: the profile goes without them.
    profileTraces.push(check.evidence === 'other' ? withoutSquashfsReads(trace) : trace);
    // Data comes from file events; the module's own squashfs reads only from metadata.
    const events = trace.events.filter((e) =>
      e.kind === 'block' ? options.blockEvents && e.squashfsOffset !== true : options.blockEvents || e.path !== '',
    );
    const mapped = mapTrace(
      { ...trace, events },
      layout,
      check.evidence === 'same' && check.devices.length > 0 ? { squashfsDevices: check.devices } : {},
    );
    const ranged = events.some((e) => e.kind === 'block' || (e.offset !== undefined && e.length !== undefined));
    for (const touch of mapped.touches) {
      if (touch.target !== 'file') continue;
      const file = touch.via === 'block' ? touch.file : resolve(touch.path);
      if (file === undefined || layout.files[file]?.layer !== 'squashfs') continue;
      touched.add(file);
      if (!ranged) ranges.set(file, 'whole');
      else if (touch.range !== undefined && touch.range[1] > touch.range[0]) addRange(file, touch.range);
    }
    out.push({ source: trace.source, check, ranged, unresolvedInodeEvents: mapped.stats.unresolvedInodeEvents });
  }

  const files: FileReads[] = [...ranges.keys()]
    .sort((a, b) => a - b)
    .map((file) => {
      const r = ranges.get(file)!;
      return { file, ranges: r === 'whole' ? 'whole' : mergeRanges(r) };
    });
  const openedOnly = [...touched].filter((f) => !ranges.has(f)).sort((a, b) => a - b);
  return {
    files,
    openedOnly,
    traces: out,
    metadata: allShowMetadata ? mergeRanges(metadata).map(([s, e]) => ({ offset: s, length: e - s })) : 'tables',
    metadataReads,
    profileTraces,
  };
}

const NO_CHECK: SquashfsReadsCheck = { evidence: 'none', reads: 0, checked: 0, aligned: 0, devices: [] };

function withoutSquashfsReads(trace: Trace): Trace {
  return { ...trace, events: trace.events.filter((e) => e.kind !== 'block' || e.squashfsOffset !== true) };
}
