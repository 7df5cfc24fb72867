import type { ByteStrings } from './byte-fields.js';
import { MAX_LINE_BYTES } from './text-lines.js';
import type { BlockEvent } from './types.js';

/*
 * blkparse's common lines in one pass over their bytes (issue 12), as kmod-fast-rows.ts reads the
 * module log: numbers are summed as their digits go by, each byte is looked at once, and a run of
 * lines is read in one call. `maj,min cpu seq sec.nsec pid ACTION RWBS rest`, plain spaces, a
 * newline at the end, no CR or other control byte. It takes only a line it can vouch for (a
 * subset of what the text path of blkparse.ts accepts, with the same values) and stops at the
 * first byte of any other line: that line goes to the text path, which alone reports. So every
 * message stays in one place; test/trace-fast-paths.test.ts compares the two paths on thousands
 * of mutated inputs.
 */

/** What both paths read and update while blkparse output is parsed. */
export interface BlkparseState {
  readonly events: BlockEvent[];
  readonly readsPerDevice: Map<string, number>;
  readonly deviceNames: ByteStrings;
  sawTraceLine: boolean;
  traceLines: number;
  /** Lines taken by blkparseFastRows (the line walker counts lines with it). */
  taken: number;
}

const SPACE = 0x20;
const NEWLINE = 0x0a;
const SECTOR = 512;
/** Digits kept in a sum: 16 at most (as countAt), so the sum is exact until the check against 2^53. */
const MAX_DIGITS = 16;

/**
 * Take the good lines from bytes[p] on (p at a line's start, `end` the end of the bytes); returns
 * the start of the first line not taken (or `end`).
 */
export function blkparseFastRows(s: BlkparseState, bytes: Uint8Array, p: number, end: number): number {
  const { events, readsPerDevice, deviceNames } = s;
  let taken = 0;
  let traceLines = s.traceLines;
  // reads of the device of the run so far, not yet added to readsPerDevice
  let device = '';
  let deviceReads = 0;
  while (p < end) {
    const lineStart = p;
    let k = p;
    while (bytes[k] === SPACE) k++;
    // maj,min
    const majStart = k;
    while (k < end && bytes[k]! - 0x30 >>> 0 <= 9) k++;
    if (k === majStart || bytes[k] !== 0x2c /* , */) break;
    const minStart = ++k;
    while (k < end && bytes[k]! - 0x30 >>> 0 <= 9) k++;
    if (k === minStart || bytes[k] !== SPACE) break;
    const minEnd = k;
    while (bytes[k] === SPACE) k++;
    // cpu, then seq: digits, then spaces
    let start = k;
    while (k < end && bytes[k]! - 0x30 >>> 0 <= 9) k++;
    if (k === start || bytes[k] !== SPACE) break;
    while (bytes[k] === SPACE) k++;
    start = k;
    while (k < end && bytes[k]! - 0x30 >>> 0 <= 9) k++;
    if (k === start || bytes[k] !== SPACE) break;
    while (bytes[k] === SPACE) k++;
    // sec.nsec, nsec exactly 9 digits
    start = k;
    let sec = 0;
    for (let d = bytes[k]! - 0x30; k < end && d >>> 0 <= 9; d = bytes[++k]! - 0x30) sec = sec * 10 + d;
    if (k === start || bytes[k] !== 0x2e /* . */) break;
    const secDigits = k - start;
    start = ++k;
    let nsec = 0;
    for (let d = bytes[k]! - 0x30; k < end && d >>> 0 <= 9; d = bytes[++k]! - 0x30) nsec = nsec * 10 + d;
    if (k !== start + 9 || bytes[k] !== SPACE) break;
    while (bytes[k] === SPACE) k++;
    // pid
    start = k;
    while (k < end && bytes[k]! - 0x30 >>> 0 <= 9) k++;
    if (k === start || bytes[k] !== SPACE) break;
    while (bytes[k] === SPACE) k++;
    // the action: 1 or 2 letters
    const action = k;
    while (k < end && k - action < 3 && ((bytes[k]! | 0x20) - 0x61) >>> 0 <= 25) k++;
    if (k === action || k - action > 2 || bytes[k] !== SPACE) break;
    const isD = k === action + 1 && bytes[action] === 0x44; /* D */
    while (bytes[k] === SPACE) k++;
    // RWBS: capitals, not none (the text path splits the spaces differently then)
    const rwbs = k;
    while (k < end && bytes[k]! - 0x41 >>> 0 <= 25) k++;
    if (k === rwbs) break;
    const rwbsEnd = k;
    let rest = -1;
    if (bytes[k] === SPACE) {
      while (bytes[k] === SPACE) k++;
      rest = k;
    } else if (bytes[k] !== NEWLINE) break;
    const read = isD && (bytes[rwbs] === 0x46 /* F */ ? rwbs + 1 < rwbsEnd && bytes[rwbs + 1] === 0x52 : bytes[rwbs] === 0x52); /* R */
    if (!read) {
      // to the newline: no control byte (the text path strips a final CR)
      k = controlByteFrom(bytes, k, end);
      if (k === end || bytes[k] !== NEWLINE || k === rest || k - lineStart > MAX_LINE_BYTES) break;
      traceLines++;
      taken++;
      p = k + 1;
      continue;
    }
    // a read: `sector + count [comm]`, then no control byte to the newline
    if (rest === -1) break;
    start = k;
    let sector = 0;
    for (let d = bytes[k]! - 0x30; k < end && d >>> 0 <= 9; d = bytes[++k]! - 0x30) sector = sector * 10 + d;
    const sectorDigits = k - start;
    if (sectorDigits === 0 || bytes[k] !== SPACE || bytes[k + 1] !== 0x2b /* + */ || bytes[k + 2] !== SPACE) break;
    k += 3;
    start = k;
    let count = 0;
    for (let d = bytes[k]! - 0x30; k < end && d >>> 0 <= 9; d = bytes[++k]! - 0x30) count = count * 10 + d;
    const countDigits = k - start;
    if (countDigits === 0 || bytes[k] !== SPACE || bytes[k + 1] !== 0x5b /* [ */) break;
    const commStart = k + 2;
    k = controlByteFrom(bytes, commStart, end);
    if (k === end || bytes[k] !== NEWLINE || k - 1 < commStart || bytes[k - 1] !== 0x5d /* ] */ || k - lineStart > MAX_LINE_BYTES) break;
    // the numbers as countAt reads them: 1 to 16 digits, a safe integer (a longer sum only rounds up)
    if (secDigits > MAX_DIGITS || sectorDigits > MAX_DIGITS || countDigits > MAX_DIGITS) break;
    if (sec > Number.MAX_SAFE_INTEGER || sector > Number.MAX_SAFE_INTEGER || count > Number.MAX_SAFE_INTEGER) break;
    traceLines++;
    taken++;
    p = k + 1;
    if (count === 0) continue;
    const name = deviceNames.get(bytes as Buffer, majStart, minEnd);
    if (name !== device) {
      if (deviceReads > 0) readsPerDevice.set(device, readsPerDevice.get(device)! + deviceReads);
      device = name;
      deviceReads = 0;
      // a device is listed in the order it is first seen
      if (!readsPerDevice.has(name)) readsPerDevice.set(name, 0);
    }
    deviceReads++;
    events.push({ kind: 'block', seq: events.length, timeNs: sec * 1e9 + nsec, device: name, offset: sector * SECTOR, length: count * SECTOR });
  }
  if (deviceReads > 0) readsPerDevice.set(device, readsPerDevice.get(device)! + deviceReads);
  if (taken > 0) s.sawTraceLine = true;
  s.traceLines = traceLines;
  s.taken += taken;
  return p;
}

/** The first control byte (other than a tab) from bytes[k] on, or `end`: where a line's plain text stops. */
function controlByteFrom(bytes: Uint8Array, k: number, end: number): number {
  while (k < end) {
    const c = bytes[k]!;
    if (c < SPACE) {
      if (c !== 0x09) return k;
    } else if (c === 0x7f) return k;
    k++;
  }
  return end;
}
