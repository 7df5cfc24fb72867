import { FormatError } from '../errors.js';
import { ByteStrings, countAt, digitsEnd } from './byte-fields.js';
import { RowProblems } from './row-problems.js';
import { MAX_LINE_BYTES, excerpt, firstBinaryByte, forEachLineFast, headLines, parseCount } from './text-lines.js';
import type { BlockEvent, Trace, TraceDevice } from './types.js';
import { linuxDeviceKind } from './linux-devices.js';

/**
 * blkparse's default text output (docs/formats.md §4.1):
 *   `%3d,%-3d %2d %8d %5d.%09lu %5u %2s %3s ` = maj,min cpu seq sec.nsec pid action RWBS,
 * then for D/I/Q/B `sector + nsectors [comm]`.
 * We keep action D (issued to the driver) with a read RWBS: those are the reads that reach the device.
 * The per-CPU and per-device summaries at the end are skipped.
 */

const LINE = /^\s*(\d+),(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\.(\d{9})\s+(\d+)\s+([A-Za-z]{1,2})\s+([A-Z]*)(?:\s+(.*))?$/;
const FS_REQUEST = /^(\d+) \+ (\d+)(?: \(.*\))? \[(.*)\]$/;
/** Packet-command requests (SCSI/ATAPI commands such as the CD's TOC reads) print `bytes [(cdb)] [comm]`: no sector. */
const PC_REQUEST = /^\d+(?: \(.*\))? \[.*\]$/;
const SUMMARY = /^(?:CPU\d+|Total) \(/;
const SECTOR = 512;

export function looksLikeBlkparse(head: Buffer): boolean {
  const lines = headLines(head, 4).filter((l) => !l.startsWith('Input file '));
  return lines.length > 0 && /^\s*\d+,\d+\s+\d+\s+\d+\s+\d+\.\d{9}\s+\d+\s+[A-Za-z]{1,2}\s/.test(lines[0]!);
}

/** A read in blkparse's RWBS: optional F (flush) first, then R; not W (write), D (discard) or N (no data). */
function isRead(rwbs: string): boolean {
  const c = rwbs.charCodeAt(0) === 0x46 /* F */ ? rwbs[1] : rwbs[0];
  return c === 'R';
}

/** `textOnly` turns the byte fast path off: the tests check that both paths agree. */
export function parseBlkparse(bytes: Buffer, source: string, options: { textOnly?: boolean } = {}): Trace {
  const events: BlockEvent[] = [];
  const readsPerDevice = new Map<string, number>();
  let inSummary = false;
  let sawTraceLine = false;
  let pcRequests = 0;
  let traceLines = 0;
  // a bad line is named and skipped (issue 11), unless most lines are bad
  const problems = new RowProblems(source, 'blkparse output');
  const skip = (offset: number, message: string): void => problems.add(new FormatError(source, offset, message), traceLines);

  const deviceNames = new ByteStrings();
  const length = bytes.length;
  const spacesEnd = (at: number): number => {
    while (bytes[at] === 0x20) at++;
    return at;
  };
  /** Digits at `at` then at least one space: the next field's start, or -1. */
  const numberField = (at: number): number => {
    const end = digitsEnd(bytes, at, length);
    return end === at || bytes[end] !== 0x20 ? -1 : spacesEnd(end);
  };

  /*
   * The common line, read from the bytes (parsing big outputs was mostly the LINE regex and its
   * strings): `maj,min cpu seq sec.nsec pid ACTION RWBS rest` with plain spaces, ending in a
   * newline, with no CR or other control byte. It accepts a subset of what the text path
   * accepts, with the same values: any other line returns -1 and takes the text path, which
   * owns every error message.
   */
  const fast = (start: number): number => {
    if (options.textOnly === true) return -1;
    if (inSummary) return -1;
    const majStart = spacesEnd(start);
    const majEnd = digitsEnd(bytes, majStart, length);
    if (majEnd === majStart || bytes[majEnd] !== 0x2c /* , */) return -1;
    const minEnd = digitsEnd(bytes, majEnd + 1, length);
    if (minEnd === majEnd + 1 || bytes[minEnd] !== 0x20) return -1;
    const cpu = spacesEnd(minEnd);
    const seq = numberField(cpu);
    if (seq === -1) return -1;
    const secStart = numberField(seq);
    if (secStart === -1) return -1;
    const secEnd = digitsEnd(bytes, secStart, length);
    if (secEnd === secStart || bytes[secEnd] !== 0x2e /* . */) return -1;
    const nsecEnd = digitsEnd(bytes, secEnd + 1, length);
    if (nsecEnd !== secEnd + 10 || bytes[nsecEnd] !== 0x20) return -1;
    const action = numberField(spacesEnd(nsecEnd));
    if (action === -1) return -1;
    let k = action;
    while (k < length && k - action < 3 && ((bytes[k]! | 0x20) >= 0x61 && (bytes[k]! | 0x20) <= 0x7a)) k++;
    if (k === action || k - action > 2 || bytes[k] !== 0x20) return -1;
    const actionEnd = k;
    const rwbs = spacesEnd(k);
    k = rwbs;
    while (bytes[k]! >= 0x41 && bytes[k]! <= 0x5a) k++;
    // an empty RWBS makes the regex split the spaces differently: left to the text path
    if (k === rwbs) return -1;
    const rwbsEnd = k;
    let rest = -1;
    if (bytes[k] === 0x20) {
      rest = spacesEnd(k);
    } else if (bytes[k] !== 0x0a) return -1;
    // the rest of the line: no CR (the text path strips a final one) and, for a read, no control bytes
    let end = rest === -1 ? k : rest;
    let control = false;
    while (end < length) {
      const c = bytes[end]!;
      if (c === 0x0a) break;
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) control = true;
      end++;
    }
    if (end === length || rest === end || control) return -1;
    sawTraceLine = true;
    traceLines++;
    const isD = actionEnd === action + 1 && bytes[action] === 0x44; /* D */
    const r = bytes[rwbs] === 0x46 /* F */ ? (rwbs + 1 < rwbsEnd ? bytes[rwbs + 1] : -1) : bytes[rwbs];
    if (!isD || r !== 0x52 /* R */) return end;
    if (rest === -1) return -1;
    // `sector + count [comm]`
    const sectorEnd = digitsEnd(bytes, rest, length);
    if (sectorEnd === rest || bytes[sectorEnd] !== 0x20 || bytes[sectorEnd + 1] !== 0x2b || bytes[sectorEnd + 2] !== 0x20) return -1;
    const countEnd = digitsEnd(bytes, sectorEnd + 3, length);
    if (countEnd === sectorEnd + 3 || bytes[countEnd] !== 0x20 || bytes[countEnd + 1] !== 0x5b /* [ */ || bytes[end - 1] !== 0x5d /* ] */ || end - 1 < countEnd + 2) return -1;
    const sector = countAt(bytes, rest, sectorEnd);
    const count = countAt(bytes, sectorEnd + 3, countEnd);
    const sec = countAt(bytes, secStart, secEnd);
    const nsec = countAt(bytes, secEnd + 1, nsecEnd);
    if (sector === undefined || count === undefined || sec === undefined || nsec === undefined) return -1;
    if (count === 0) return end;
    const device = deviceNames.get(bytes, majStart, minEnd);
    readsPerDevice.set(device, (readsPerDevice.get(device) ?? 0) + 1);
    events.push({ kind: 'block', seq: events.length, timeNs: sec * 1e9 + nsec, device, offset: sector * SECTOR, length: count * SECTOR });
    return end;
  };

  forEachLineFast(bytes, source, fast, (text, offset, lineNumber, terminated) => {
    if (inSummary || text.trim().length === 0) return;
    const m = LINE.exec(text);
    if (m === null) {
      const bad = firstBinaryByte(text);
      if (bad !== -1) return skip(offset + bad, `line ${lineNumber}: binary data in blkparse output`);
      if (SUMMARY.test(text) && sawTraceLine) {
        inSummary = true;
        return;
      }
      if (!sawTraceLine && text.startsWith('Input file ')) return;
      return skip(offset, `line ${lineNumber} is not a blkparse event: ${excerpt(text)}`);
    }
    sawTraceLine = true;
    if (m[8] !== 'D' || !isRead(m[9]!)) {
      traceLines++;
      return;
    }
    const bad = firstBinaryByte(text);
    if (bad !== -1) return skip(offset + bad, `line ${lineNumber}: binary data in blkparse output`);
    const rest = m[10] ?? '';
    const req = FS_REQUEST.exec(rest);
    if (req === null) {
      if (PC_REQUEST.test(rest)) {
        pcRequests++;
        traceLines++;
        return;
      }
      return skip(offset, `line ${lineNumber}: malformed read request ${excerpt(text)}`);
    }
    if (!terminated) return skip(offset, `line ${lineNumber} is cut short (no newline at the end of the output)`);
    const sector = parseCount(req[1]!);
    const count = parseCount(req[2]!);
    const sec = parseCount(m[5]!);
    const nsec = parseCount(m[6]!);
    if (sector === undefined || count === undefined || sec === undefined || nsec === undefined) {
      return skip(offset, `line ${lineNumber}: number out of range ${excerpt(text)}`);
    }
    traceLines++;
    if (count === 0) return;
    const device = `${m[1]},${m[2]}`;
    readsPerDevice.set(device, (readsPerDevice.get(device) ?? 0) + 1);
    events.push({
      kind: 'block',
      seq: events.length,
      timeNs: sec * 1e9 + nsec,
      device,
      offset: sector * SECTOR,
      length: count * SECTOR,
    });
  }, (offset, lineNumber) => skip(offset, `line ${lineNumber}: line longer than ${MAX_LINE_BYTES} bytes: not a record`));

  const devices: TraceDevice[] = [...readsPerDevice].map(([id, n]) => {
    const [major] = id.split(',');
    const kind = linuxDeviceKind(Number(major));
    return { id, kind, description: `${id} (${kind}, ${n} reads issued to the driver)` };
  });
  const notes = problems.notes();
  if (pcRequests > 0) notes.push(`${pcRequests} packet-command reads without a sector skipped`);
  return { source, format: 'blkparse', events, devices, notes };
}
