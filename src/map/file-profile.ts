import type { AccessKind, ProfileRow } from '../trace/map-output-format.js';
import type { MappedTrace, Touch } from './map-trace.js';
import { mergeRanges } from './map-trace.js';

/**
 * The per-file aggregate that `bootprof map` writes (its format: src/trace/map-output-format.ts),
 * built from one or more mapped traces taken in the order given (their sequence numbers are laid
 * end to end): one row per file in first-access order, then the metadata that no file owns, then
 * the reads that hit nothing the image knows. Not src/profile's boot profile: that is the ordered
 * list of paths the sort and readahead outputs are made from.
 */

const ISO_SECTOR = 2048;

interface Aggregate {
  row: ProfileRow;
  blocks: Set<number>;
  fragments: Set<number>;
  sharers: Set<number>;
  ranges: [number, number][];
  via: Set<AccessKind>;
  isoFile: boolean;
  self?: number;
  lastSeq: number;
}

export interface FileProfile {
  rows: ProfileRow[];
  files: number;
  metadataReads: number;
  unmappedReads: number;
}

export function buildFileProfile(traces: readonly MappedTrace[]): FileProfile {
  const files = new Map<string, Aggregate>();
  const metadata = new Map<string, Aggregate>();
  let unmapped: Aggregate | undefined;
  let seqBase = 0;

  for (const trace of traces) {
    let maxSeq = -1;
    for (const touch of trace.touches) {
      const seq = seqBase + touch.seq;
      if (touch.seq > maxSeq) maxSeq = touch.seq;
      const agg = aggregateFor(touch, seq, files, metadata, () => (unmapped ??= newAggregate('unmapped', '-', 0, seq, touch)));
      if (agg.lastSeq !== seq) {
        agg.row.reads++;
        agg.lastSeq = seq;
      }
      agg.row.deviceBytes += touch.deviceBytes;
      agg.via.add(touch.via);
      if (touch.target !== 'file') continue;
      if (touch.range !== undefined && touch.range[1] > touch.range[0]) agg.ranges.push(touch.range);
      if (touch.blockKey !== undefined) agg.blocks.add(touch.blockKey);
      if (touch.isoFile) agg.isoFile = true;
      if (touch.file !== undefined) agg.self = touch.file;
      if (touch.fragmentKey !== undefined) {
        agg.fragments.add(touch.fragmentKey);
        for (const s of touch.sharers ?? []) agg.sharers.add(s);
      }
    }
    seqBase += maxSeq + 1;
  }

  const rows: ProfileRow[] = [];
  const unmappedRow: Aggregate[] = unmapped === undefined ? [] : [unmapped];
  for (const agg of [...files.values(), ...metadata.values(), ...unmappedRow]) {
    const ranges = mergeRanges(agg.ranges);
    agg.row.ranges = ranges;
    agg.row.fileBytes = ranges.reduce((n, [s, e]) => n + e - s, 0);
    agg.row.via = [...agg.via].sort();
    agg.row.fragmentBlocks = agg.fragments.size;
    if (agg.self !== undefined) agg.sharers.delete(agg.self);
    agg.row.sharedWith = agg.sharers.size;
    agg.row.blocks = agg.isoFile ? agg.blocks.size + sectorsOf(ranges) : agg.blocks.size;
    rows.push(agg.row);
  }
  return {
    rows,
    files: files.size,
    metadataReads: [...metadata.values()].reduce((n, a) => n + a.row.reads, 0),
    unmappedReads: unmappedRow[0]?.row.reads ?? 0,
  };
}

function aggregateFor(
  touch: Touch,
  seq: number,
  files: Map<string, Aggregate>,
  metadata: Map<string, Aggregate>,
  unmapped: () => Aggregate,
): Aggregate {
  if (touch.target === 'unmapped') return unmapped();
  const [map, key] = touch.target === 'file' ? [files, touch.path] : [metadata, touch.what];
  let agg = map.get(key);
  if (agg === undefined) {
    agg = newAggregate(touch.target, key, map.size, seq, touch);
    map.set(key, agg);
  }
  return agg;
}

function newAggregate(kind: ProfileRow['kind'], path: string, order: number, seq: number, touch: Touch): Aggregate {
  const row: ProfileRow = {
    kind,
    order,
    firstSeq: seq,
    path,
    deviceBytes: 0,
    blocks: 0,
    fragmentBlocks: 0,
    sharedWith: 0,
    reads: 0,
    fileBytes: 0,
    via: [],
    ranges: [],
  };
  if (touch.timeNs !== undefined) row.firstTimeNs = touch.timeNs;
  return { row, blocks: new Set(), fragments: new Set(), sharers: new Set(), ranges: [], via: new Set(), isoFile: false, lastSeq: -1 };
}

/** 2048-byte sectors covered by file ranges of a file that starts on a sector. */
function sectorsOf(ranges: [number, number][]): number {
  let n = 0;
  let lastSector = -1;
  for (const [s, e] of ranges) {
    const first = Math.max(Math.floor(s / ISO_SECTOR), lastSector + 1);
    const last = Math.floor((e - 1) / ISO_SECTOR);
    if (last >= first) n += last - first + 1;
    lastSector = Math.max(lastSector, last);
  }
  return n;
}
