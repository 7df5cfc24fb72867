import { FormatError } from '../errors.js';
import { parseCount } from './text-lines.js';
import { escapeField, unescapeField } from './tsv-escape.js';
import { forEachTsvRecord, RecordProblem } from './tsv-records.js';
import type { FileEvent, Trace } from './types.js';

/**
 * The file-level profile that `bootprof map` writes, and that every command reads back as a trace.
 *
 *   #bootprof-profile v1 <TAB> order kind first_seq first_time_ns path device_bytes blocks
 *       fragment_blocks shared_with reads file_bytes via ranges
 *
 * One row per file in first-access order (kind `file`), then one row per metadata kind that reads
 * hit without belonging to any file (kind `metadata`, path = the extent kind, e.g. `inode-table`),
 * then one `unmapped` row for bytes read outside every known extent, or of data blocks that no read
 * completed (a neighbour's block grazed by an unaligned read). `-` marks an empty field.
 * Paths use the events file's escaping (\\, \t, \n). `ranges` lists the file byte ranges read,
 * `start-end` (end exclusive), comma-separated.
 */

export const PROFILE_MAGIC = '#bootprof-profile v1';
const COLUMN_NAMES = [
  'order',
  'kind',
  'first_seq',
  'first_time_ns',
  'path',
  'device_bytes',
  'blocks',
  'fragment_blocks',
  'shared_with',
  'reads',
  'file_bytes',
  'via',
  'ranges',
] as const;
const HEADER = [PROFILE_MAGIC, ...COLUMN_NAMES].join('\t');

export type ProfileRowKind = 'file' | 'metadata' | 'unmapped';
export type AccessKind = 'block' | 'open' | 'exec' | 'read' | 'fault';

export interface ProfileRow {
  kind: ProfileRowKind;
  /** Rank of first access among rows of this kind, from 0. */
  order: number;
  /** Sequence number (across all input traces, in the order given) of the first event that touched it. */
  firstSeq: number;
  firstTimeNs?: number;
  /** File path; for metadata rows the extent kind; '-' for the unmapped row. */
  path: string;
  /** Bytes of device reads that fell on this file's (or metadata kind's) extents. */
  deviceBytes: number;
  /** Distinct data blocks of the file read (squashfs blocks; 2048-byte sectors for files on the ISO). */
  blocks: number;
  /** Distinct fragment blocks read that hold this file's tail. */
  fragmentBlocks: number;
  /** Distinct other files with a tail in those fragment blocks. */
  sharedWith: number;
  /** Events that touched it. */
  reads: number;
  /** Bytes of the file's data covered by the ranges. */
  fileBytes: number;
  /** Which kinds of events touched it. */
  via: AccessKind[];
  /** File byte ranges read, [start, end), sorted and merged. */
  ranges: [number, number][];
}

export function looksLikeProfile(head: Buffer): boolean {
  return head.subarray(0, PROFILE_MAGIC.length).toString('latin1') === PROFILE_MAGIC;
}

export function formatProfileTsv(rows: readonly ProfileRow[]): string {
  const out: string[] = [HEADER];
  for (const r of rows) {
    out.push(
      [
        r.order,
        r.kind,
        r.firstSeq,
        r.firstTimeNs ?? '-',
        r.kind === 'unmapped' ? '-' : escapeField(r.path),
        r.deviceBytes,
        r.blocks,
        r.fragmentBlocks,
        r.sharedWith,
        r.reads,
        r.fileBytes,
        r.via.length > 0 ? r.via.join(',') : '-',
        r.ranges.length > 0 ? r.ranges.map(([s, e]) => `${s}-${e}`).join(',') : '-',
      ].join('\t'),
    );
  }
  return `${out.join('\n')}\n`;
}

const ACCESS_KINDS = new Set<string>(['block', 'open', 'exec', 'read', 'fault']);
/** A profile row lists at most this many ranges: more means the file is garbage, not a profile. */
const MAX_RANGES_PER_ROW = 1_000_000;

export function parseProfileRows(bytes: Buffer, source: string): ProfileRow[] {
  const headerEnd = bytes.indexOf(0x0a);
  const header = bytes.toString('utf8', 0, headerEnd === -1 ? Math.min(bytes.length, 300) : headerEnd).replace(/\r$/, '');
  if (header !== HEADER) {
    throw new FormatError(source, 0, `unexpected header ${JSON.stringify(header.slice(0, 160))} (expected the v1 columns)`);
  }
  const rows: ProfileRow[] = [];
  forEachTsvRecord(bytes, source, COLUMN_NAMES.length, (f) => {
    const bad = (column: number): RecordProblem =>
      new RecordProblem(`bad ${COLUMN_NAMES[column]} ${JSON.stringify(f[column]!.slice(0, 80))}`);
    const count = (column: number): number => {
      const n = parseCount(f[column]!);
      if (n === undefined) throw bad(column);
      return n;
    };
    const kind = f[1]!;
    if (kind !== 'file' && kind !== 'metadata' && kind !== 'unmapped') throw bad(1);
    const row: ProfileRow = {
      kind,
      order: count(0),
      firstSeq: count(2),
      path: kind === 'unmapped' ? '-' : unescapeField(f[4]!),
      deviceBytes: count(5),
      blocks: count(6),
      fragmentBlocks: count(7),
      sharedWith: count(8),
      reads: count(9),
      fileBytes: count(10),
      via: [],
      ranges: [],
    };
    if (f[3] !== '-') row.firstTimeNs = count(3);
    if (kind === 'file' && !row.path.startsWith('/')) throw bad(4);
    if (f[11] !== '-') {
      for (const v of f[11]!.split(',')) {
        if (!ACCESS_KINDS.has(v)) throw bad(11);
        row.via.push(v as AccessKind);
      }
    }
    if (f[12] !== '-') {
      const parts = f[12]!.split(',');
      if (parts.length > MAX_RANGES_PER_ROW) throw bad(12);
      for (const part of parts) {
        const dash = part.indexOf('-');
        const start = parseCount(part.slice(0, dash));
        const end = parseCount(part.slice(dash + 1));
        if (dash < 0 || start === undefined || end === undefined || end < start) throw bad(12);
        row.ranges.push([start, end]);
      }
    }
    rows.push(row);
  });
  return rows;
}

/** A profile as a trace: each file row becomes its read ranges (or one open when none), in row order. */
export function parseProfile(bytes: Buffer, source: string): Trace {
  return profileTrace(parseProfileRows(bytes, source), source);
}

function profileTrace(rows: readonly ProfileRow[], source: string): Trace {
  const events: FileEvent[] = [];
  for (const row of rows) {
    if (row.kind !== 'file') continue;
    const first = events.length;
    if (row.ranges.length === 0) {
      events.push({ kind: 'open', seq: first, path: row.path });
    } else {
      for (const [start, end] of row.ranges) {
        events.push({ kind: 'read', seq: events.length, path: row.path, offset: start, length: end - start });
      }
    }
    if (row.firstTimeNs !== undefined) events[first]!.timeNs = row.firstTimeNs;
  }
  return { source, format: 'bootprof-profile', events };
}

/** `bootprof map --json` output: `{ "format": "bootprof-profile", "version": 1, ..., "files": [rows] }`. */
export function looksLikeProfileJson(head: Buffer): boolean {
  const text = head.subarray(0, 256).toString('latin1');
  return /^\s*\{\s*"format"\s*:\s*"bootprof-profile"/.test(text);
}

export function parseProfileJson(bytes: Buffer, source: string): Trace {
  let doc: unknown;
  const text = bytes.toString('utf8');
  try {
    doc = JSON.parse(text);
  } catch (err) {
    // V8 names a character position, or none when the text ends early
    const at = /position (\d+)/.exec((err as Error).message);
    const offset = at ? Buffer.byteLength(text.slice(0, Number(at[1]))) : bytes.length;
    throw new FormatError(source, offset, `not valid JSON: ${(err as Error).message}`);
  }
  const filesAt = Math.max(0, bytes.indexOf('"files"'));
  const files = (doc as { version?: unknown; files?: unknown }).files;
  if ((doc as { version?: unknown }).version !== 1 || !Array.isArray(files)) {
    throw new FormatError(source, 0, 'a bootprof-profile JSON document needs "version": 1 and a "files" array');
  }
  const rows: ProfileRow[] = files.map((f: unknown, i: number) => {
    const row = f as Partial<ProfileRow>;
    const ranges = Array.isArray(row.ranges) ? row.ranges : [];
    const okRanges = ranges.every(
      (r: unknown) => Array.isArray(r) && r.length === 2 && Number.isSafeInteger(r[0]) && Number.isSafeInteger(r[1]) && r[0] >= 0 && r[1] >= r[0],
    );
    if (row.kind !== 'file' || typeof row.path !== 'string' || !row.path.startsWith('/') || !okRanges) {
      throw new FormatError(source, filesAt, `files[${i}] is not a file row with an absolute path and [start, end] ranges`);
    }
    return { ...(row as ProfileRow), ranges: ranges as [number, number][] };
  });
  return profileTrace(rows, source);
}
