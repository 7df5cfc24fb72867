import { bytesStartWith, type ByteStrings } from './byte-fields.js';
import { MAX_LINE_BYTES } from './text-lines.js';
import type { BlockEvent } from './types.js';

/*
 * qemu's common log line in one pass over its bytes (issue 12), as blkparse-fast-rows.ts reads
 * blkparse: `[PID@SEC.USEC:]blk_co_preadv blk 0x.. bs 0x.. offset N bytes N flags 0x..`, a run of
 * lines per call, numbers summed as their digits go by. It takes only a line it can vouch for (a
 * subset of what the text path of qemu.ts accepts, with the same values: pointers of at most 16
 * hex digits, numbers of at most 16 digits, a newline right after the flags) and stops at the
 * first byte of any other line (other events, ide_atapi_cmd_read, CRLF, anything malformed), which
 * goes to the text path: it alone reports. test/trace-fast-paths.test.ts compares the two.
 */

/** What both paths read and update while a qemu log is parsed. */
export interface QemuState {
  readonly reads: BlockEvent[];
  readonly pointers: ByteStrings;
  /** The device of each blk pointer, "blk@0x..". */
  readonly blkDevices: Map<string, string>;
  /** The second of the first timestamp: times count from it (a wall clock's ns do not fit a double exactly). */
  originSec: number | undefined;
  /** Lines taken by qemuFastRows (the line walker counts lines with it). */
  taken: number;
}

const NEWLINE = 0x0a;
const MAX_DIGITS = 16;
const BLK_CO_PREADV = 'blk_co_preadv blk ';

/** The end of 1 to 16 hex digits at `at`, or -1. */
function hexEnd(bytes: Uint8Array, at: number, end: number): number {
  let k = at;
  while (k < end && k - at <= MAX_DIGITS) {
    const c = bytes[k]!;
    if (!(c - 0x30 >>> 0 <= 9 || ((c | 0x20) - 0x61) >>> 0 <= 5)) break;
    k++;
  }
  return k === at || k - at > MAX_DIGITS ? -1 : k;
}

/** The end of the pointer (`0x` and 1 to 16 hex digits, or `(nil)`) at `at`, or -1. */
function pointerEnd(bytes: Uint8Array, at: number, end: number): number {
  if (bytes[at] === 0x30 && bytes[at + 1] === 0x78 /* 0x */) return hexEnd(bytes, at + 2, end);
  return at + 5 <= end && bytes[at] === 0x28 && bytes[at + 1] === 0x6e && bytes[at + 2] === 0x69 && bytes[at + 3] === 0x6c && bytes[at + 4] === 0x29 /* (nil) */ ? at + 5 : -1;
}

/**
 * Take the good lines from bytes[p] on (p at a line's start, `end` the end of the bytes); returns
 * the start of the first line not taken (or `end`).
 */
export function qemuFastRows(s: QemuState, bytes: Uint8Array, p: number, end: number): number {
  const { reads, pointers, blkDevices } = s;
  let taken = 0;
  while (p < end) {
    const lineStart = p;
    let k = p;
    let stamped = false;
    let sec = 0;
    let usec = 0;
    if (bytes[k]! - 0x30 >>> 0 <= 9) {
      // PID@SEC.USEC:
      while (k < end && bytes[k]! - 0x30 >>> 0 <= 9) k++;
      if (bytes[k] !== 0x40 /* @ */) break;
      let start = ++k;
      for (let d = bytes[k]! - 0x30; k < end && d >>> 0 <= 9; d = bytes[++k]! - 0x30) sec = sec * 10 + d;
      if (k === start || k - start > MAX_DIGITS || sec > Number.MAX_SAFE_INTEGER || bytes[k] !== 0x2e /* . */) break;
      start = ++k;
      for (let d = bytes[k]! - 0x30; k < end && d >>> 0 <= 9; d = bytes[++k]! - 0x30) usec = usec * 10 + d;
      if (k === start || k - start > MAX_DIGITS || usec >= 1_000_000 || bytes[k] !== 0x3a /* : */) break;
      k++;
      stamped = true;
    }
    if (!bytesStartWith(bytes, k, end, BLK_CO_PREADV)) break;
    const blkStart = k + BLK_CO_PREADV.length;
    const blkEnd = pointerEnd(bytes, blkStart, end);
    // ' bs '
    if (blkEnd === -1 || bytes[blkEnd] !== 0x20 || bytes[blkEnd + 1] !== 0x62 || bytes[blkEnd + 2] !== 0x73 || bytes[blkEnd + 3] !== 0x20) break;
    k = pointerEnd(bytes, blkEnd + 4, end);
    // ' offset '
    if (k === -1 || bytes[k] !== 0x20 || bytes[k + 1] !== 0x6f || bytes[k + 2] !== 0x66 || bytes[k + 3] !== 0x66 || bytes[k + 4] !== 0x73 ||
      bytes[k + 5] !== 0x65 || bytes[k + 6] !== 0x74 || bytes[k + 7] !== 0x20) break;
    k += 8;
    let start = k;
    let offset = 0;
    for (let d = bytes[k]! - 0x30; k < end && d >>> 0 <= 9; d = bytes[++k]! - 0x30) offset = offset * 10 + d;
    if (k === start || k - start > MAX_DIGITS || offset > Number.MAX_SAFE_INTEGER) break;
    // ' bytes '
    if (bytes[k] !== 0x20 || bytes[k + 1] !== 0x62 || bytes[k + 2] !== 0x79 || bytes[k + 3] !== 0x74 || bytes[k + 4] !== 0x65 || bytes[k + 5] !== 0x73 ||
      bytes[k + 6] !== 0x20) break;
    k += 7;
    start = k;
    let size = 0;
    for (let d = bytes[k]! - 0x30; k < end && d >>> 0 <= 9; d = bytes[++k]! - 0x30) size = size * 10 + d;
    if (k === start || k - start > MAX_DIGITS || size > Number.MAX_SAFE_INTEGER) break;
    // ' flags 0x', hex, the newline
    if (bytes[k] !== 0x20 || bytes[k + 1] !== 0x66 || bytes[k + 2] !== 0x6c || bytes[k + 3] !== 0x61 || bytes[k + 4] !== 0x67 || bytes[k + 5] !== 0x73 ||
      bytes[k + 6] !== 0x20 || bytes[k + 7] !== 0x30 || bytes[k + 8] !== 0x78) break;
    k = hexEnd(bytes, k + 9, end);
    if (k === -1 || bytes[k] !== NEWLINE || k - lineStart > MAX_LINE_BYTES) break;
    const pointer = pointers.get(bytes as Buffer, blkStart, blkEnd);
    let device = blkDevices.get(pointer);
    if (device === undefined) blkDevices.set(pointer, (device = `blk@${pointer}`));
    if (stamped) {
      const origin = (s.originSec ??= sec);
      reads.push({ kind: 'block', seq: 0, device, offset, length: size, timeNs: (sec - origin) * 1e9 + usec * 1000 });
    } else {
      reads.push({ kind: 'block', seq: 0, device, offset, length: size });
    }
    taken++;
    p = k + 1;
  }
  s.taken += taken;
  return p;
}
