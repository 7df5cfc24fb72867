import { foldHash, HASH_PRIME, HASH_SEED, type ByteStrings } from './byte-fields.js';
import { MAX_RECORD_BYTES } from './tsv-scan.js';

/*
 * The module log's good rows in one pass over their bytes (issue 12): the row-by-row path of
 * kmod-events.ts finds the tabs of a line first, then reads each field again (digits, the event
 * word, the interned strings), through a TsvRow; here each byte is looked at once, numbers are
 * summed as their digits go by, and nothing is built per row. It takes only a row it can vouch
 * for: anything else (a number past 2^53, a device not seen yet, an unknown event, a byte below
 * 0x0b that is not a separator, a line cut by the end of the chunk, any error) stops it at that
 * row's first byte, and the row-by-row path, the only one that reports, reads that row. So the
 * checks and every message stay in one place; this path only has to accept no row that one
 * would refuse, and to hand the sink what it would. test/trace-kmod-fast-rows.test.ts compares
 * the two on rows of every kind, good and bad.
 */

/** Receives each good event of a log: numbers that are absent are NaN, ids into the tables -1. */
export type EventSink = (kind: number, time: number, pid: number, path: number, comm: number, offset: number, length: number, ino: number, dev: number) => void;

/** What both paths read and update while a log is parsed. */
export interface EventsState {
  readonly strings: ByteStrings;
  readonly devs: ByteStrings;
  /** Device ids whose "major:minor" text was checked. */
  readonly goodDevs: Set<number>;
  readonly sink: EventSink;
  /**
   * When the sink is an event digest alone: counts a file event that repeats an earlier one (see
   * EventDigest.repeat) and says so, before its comm is looked up; the sink is not called then.
   */
  readonly repeat: ((path: number, offset: number, length: number, ino: number, dev: number) => boolean) | undefined;
  /** sqread reads by device name. */
  readonly squashfsDevices: Map<string, number>;
  previousSeq: number | bigint;
  missing: number;
  good: number;
  /** Rows accepted by fastRows (the scanner counts lines with it). */
  records: number;
}

/** Kind codes as in event-columns.ts KIND_CODE (BLOCK_KIND for sqread). */
const OPEN = 0;
const EXEC = 1;
const READ = 2;
const FAULT = 3;
const SQREAD = 4;
const TAB = 0x09;
const NEWLINE = 0x0a;
const DASH = 0x2d;

/**
 * The value of the last number field read by numberField: a second return value in a typed array,
 * since a double returned from a call (or kept in a module variable) is boxed on the heap each time.
 */
const number = new Float64Array(1);
/**
 * The row's time_ns, kept here rather than in a local: the sink needs it for the rows that are
 * not repeats only, but a local double passed to it was boxed (a heap number) on every row,
 * 14 MB of garbage per million events.
 */
const rowTime = new Float64Array(1);

/**
 * bytes[p...] as a count followed by a tab: the tab's index, the count in number[0]. -1 unless
 * it is 1 to 16 digits of a safe integer, as countAt (byte-fields.ts) accepts.
 */
function numberField(bytes: Uint8Array, view: DataView, p: number, end: number): number {
  const start = p;
  let n = 0;
  // 4 digits at a time while there are (a timestamp has 10 or more)
  while (p + 4 <= end) {
    const w = view.getInt32(p, true);
    // each byte's high nibble is 3, and still 3 once 6 is added: '0' to '9'
    if (((w & 0xf0f0f0f0) | (((w + 0x06060606) & 0xf0f0f0f0) >>> 4)) !== 0x33333333) break;
    const digits = w - 0x30303030; // the first digit in the low byte
    const pairs = (digits * 10 + (digits >>> 8)) & 0x00ff00ff; // 2 two-digit numbers
    n = n * 10000 + (pairs & 0xffff) * 100 + (pairs >>> 16);
    p += 4;
  }
  for (; p < end; p++) {
    const d = bytes[p]! - 0x30;
    if (d >>> 0 > 9) break;
    n = n * 10 + d;
  }
  // above 2^53 the sum only rounds up: the check below still refuses it
  if (p === start || p - start > 16 || p === end || bytes[p] !== TAB || n > Number.MAX_SAFE_INTEGER) return -1;
  number[0] = n;
  return p;
}

/** The index of the tab that ends the field at p, or -1 at a newline, a byte below 0x09, or the end. */
function fieldEnd(bytes: Uint8Array, p: number, end: number): number {
  while (p < end && bytes[p]! > NEWLINE) p++;
  return p < end && bytes[p] === TAB ? p : -1;
}

/** Is bytes[p...] the one-byte field "-"? */
function isDash(bytes: Uint8Array, p: number, end: number): boolean {
  return p + 1 < end && bytes[p] === DASH && bytes[p + 1] === TAB;
}

/** The event word at p (with its tab) as a kind code, or -1. */
function eventAt(bytes: Uint8Array, p: number, end: number): number {
  if (p + 7 > end) return -1; // the shortest word, its tab, and at least 2 more fields
  const a = bytes[p]!;
  const b = bytes[p + 1]!;
  const c = bytes[p + 2]!;
  const d = bytes[p + 3]!;
  const e = bytes[p + 4]!;
  if (e === TAB) {
    if (a === 0x72 && b === 0x65 && c === 0x61 && d === 0x64) return READ;
    if (a === 0x6f && b === 0x70 && c === 0x65 && d === 0x6e) return OPEN;
    if (a === 0x65 && b === 0x78 && c === 0x65 && d === 0x63) return EXEC;
    return -1;
  }
  if (a === 0x66 && b === 0x61 && c === 0x75 && d === 0x6c && e === 0x74 && bytes[p + 5] === TAB) return FAULT;
  if (a === 0x73 && b === 0x71 && c === 0x72 && d === 0x65 && e === 0x61 && bytes[p + 5] === 0x64 && bytes[p + 6] === TAB) return SQREAD;
  return -1;
}

/** Length of the event word of each kind code. */
const WORD = [4, 4, 4, 5, 6];

/**
 * Take the good rows from bytes[p] on (p at a line's start, `end` the end of the bytes at hand)
 * and hand them to the sink; returns the index of the first row not taken (or `end`).
 */
export function fastRows(s: EventsState, bytes: Uint8Array, p: number, end: number): number {
  let prev = s.previousSeq;
  if (typeof prev !== 'number') return p; // a seq past 2^53 came before: row by row from here
  const { strings, devs, goodDevs, sink, repeat } = s;
  let missing = s.missing;
  let good = s.good;
  let records = 0;
  let goodDev = -2;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  while (p < end) {
    const lineStart = p;
    let q = numberField(bytes, view, p, end);
    if (q < 0) break;
    const seq = number[0]!;
    if (seq <= prev) break;
    q = numberField(bytes, view, q + 1, end);
    if (q < 0) break;
    rowTime[0] = number[0]!;
    const kind = eventAt(bytes, q + 1, end);
    if (kind < 0) break;
    q = numberField(bytes, view, q + 2 + WORD[kind]!, end);
    if (q < 0) break;
    const pid = number[0]!;
    const commStart = q + 1;
    const commEnd = fieldEnd(bytes, commStart, end);
    if (commEnd < 0) break;
    const devStart = commEnd + 1;
    let devEnd: number;
    if (isDash(bytes, devStart, end)) devEnd = -1;
    else {
      devEnd = fieldEnd(bytes, devStart, end);
      if (devEnd < 0) break;
    }
    q = devEnd < 0 ? devStart + 1 : devEnd;
    let ino = NaN;
    if (isDash(bytes, q + 1, end)) q += 2;
    else {
      q = numberField(bytes, view, q + 1, end);
      if (q < 0) break;
      ino = number[0]!;
    }
    let offset = NaN;
    let length = NaN;
    if (kind === READ || kind === FAULT || kind === SQREAD) {
      q = numberField(bytes, view, q + 1, end);
      if (q < 0) break;
      offset = number[0]!;
      q = numberField(bytes, view, q + 1, end);
      if (q < 0) break;
      length = number[0]!;
    } else {
      // an open or exec has no range: these fields are not read
      q = fieldEnd(bytes, q + 1, end);
      if (q < 0) break;
      q = fieldEnd(bytes, q + 1, end);
      if (q < 0) break;
    }
    const pathStart = q + 1;
    let lineEnd = pathStart;
    // to the newline 4 bytes at a time, summing the path's hash (hashBytes) on the way
    let hash = HASH_SEED;
    for (;;) {
      const w = lineEnd + 4 > end ? 0 : view.getInt32(lineEnd, true);
      // a byte below 0x0b in the word (a tab, the newline, a NUL or another control byte), or the end
      if (lineEnd + 4 > end || ((w - 0x0b0b0b0b) & ~w & 0x80808080) !== 0) {
        while (lineEnd < end && bytes[lineEnd]! > NEWLINE) hash = Math.imul(hash ^ bytes[lineEnd++]!, HASH_PRIME);
        break;
      }
      hash = Math.imul(hash ^ w, HASH_PRIME);
      lineEnd += 4;
    }
    // a tab (an 11th field), a control byte, or the line goes on in the next chunk
    if (lineEnd === end || bytes[lineEnd] !== NEWLINE || lineEnd - lineStart > MAX_RECORD_BYTES) break;

    // the row is well formed; what is left to check needs the tables
    let dev = -1;
    if (devEnd >= 0) {
      dev = devs.id(bytes as Buffer, devStart, devEnd);
      if (dev !== goodDev) {
        if (!goodDevs.has(dev)) break; // its text is checked row by row, once
        goodDev = dev;
      }
    }
    if (kind === SQREAD) {
      if (dev === -1) break;
      const name = devs.values[dev]!;
      s.squashfsDevices.set(name, (s.squashfsDevices.get(name) ?? 0) + 1);
      sink(SQREAD, rowTime[0]!, NaN, -1, -1, offset, length, NaN, dev);
    } else {
      // an empty field is as '-' (a non-empty one never stands for '')
      const path = lineEnd === pathStart || (lineEnd === pathStart + 1 && bytes[pathStart] === DASH)
        ? -1
        : strings.idOfHashed(bytes as Buffer, pathStart, lineEnd, foldHash(hash));
      if (path === -1 && ino !== ino) break;
      if (repeat === undefined || !repeat(path, offset, length, ino, dev)) {
        sink(kind, rowTime[0]!, pid, path, strings.id(bytes as Buffer, commStart, commEnd), offset, length, ino, dev);
      }
    }
    if (prev !== -1) missing += seq - prev - 1;
    prev = seq;
    good++;
    records++;
    p = lineEnd + 1;
  }
  s.previousSeq = prev;
  s.missing = missing;
  s.good = good;
  s.records += records;
  return p;
}
