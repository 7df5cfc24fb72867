import { FormatError } from '../errors.js';
import { ByteStrings } from './byte-fields.js';
import { RowProblems } from './row-problems.js';
import { MAX_LINE_BYTES, excerpt, firstBinaryByte, forEachLineBatched, headLines, parseCount } from './text-lines.js';
import { blkparseFastRows, type BlkparseState } from './blkparse-fast-rows.js';
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
  let pcRequests = 0;
  const state: BlkparseState = { events, readsPerDevice, deviceNames: new ByteStrings(), sawTraceLine: false, traceLines: 0, taken: 0 };
  // a bad line is named and skipped (issue 11), unless most lines are bad
  const problems = new RowProblems(source, 'blkparse output');
  const skip = (offset: number, message: string): void => problems.add(new FormatError(source, offset, message), state.traceLines);
  // the common lines are read straight from the bytes (blkparse-fast-rows.ts); the rest, and every report, here
  const fast = {
    take: (start: number): number => (options.textOnly === true || inSummary ? start : blkparseFastRows(state, bytes, start, bytes.length)),
    taken: (): number => state.taken,
  };

  forEachLineBatched(bytes, source, fast, (text, offset, lineNumber, terminated) => {
    if (inSummary || text.trim().length === 0) return;
    const m = LINE.exec(text);
    if (m === null) {
      const bad = firstBinaryByte(text);
      if (bad !== -1) return skip(offset + bad, `line ${lineNumber}: binary data in blkparse output`);
      if (SUMMARY.test(text) && state.sawTraceLine) {
        inSummary = true;
        return;
      }
      if (!state.sawTraceLine && text.startsWith('Input file ')) return;
      return skip(offset, `line ${lineNumber} is not a blkparse event: ${excerpt(text)}`);
    }
    state.sawTraceLine = true;
    if (m[8] !== 'D' || !isRead(m[9]!)) {
      state.traceLines++;
      return;
    }
    const bad = firstBinaryByte(text);
    if (bad !== -1) return skip(offset + bad, `line ${lineNumber}: binary data in blkparse output`);
    const rest = m[10] ?? '';
    const req = FS_REQUEST.exec(rest);
    if (req === null) {
      if (PC_REQUEST.test(rest)) {
        pcRequests++;
        state.traceLines++;
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
    state.traceLines++;
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
