import { FormatError } from '../errors.js';
import { excerpt, firstBinaryByte, forEachLine, headLines, parseCount } from './text-lines.js';
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

export function parseBlkparse(bytes: Buffer, source: string): Trace {
  const events: BlockEvent[] = [];
  const readsPerDevice = new Map<string, number>();
  let inSummary = false;
  let sawTraceLine = false;
  let pcRequests = 0;

  forEachLine(bytes, source, (text, offset, lineNumber, terminated) => {
    if (inSummary || text.trim().length === 0) return;
    const m = LINE.exec(text);
    if (m === null) {
      const bad = firstBinaryByte(text);
      if (bad !== -1) throw new FormatError(source, offset + bad, `line ${lineNumber}: binary data in blkparse output`);
      if (SUMMARY.test(text) && sawTraceLine) {
        inSummary = true;
        return;
      }
      if (!sawTraceLine && text.startsWith('Input file ')) return;
      throw new FormatError(source, offset, `line ${lineNumber} is not a blkparse event: ${excerpt(text)}`);
    }
    sawTraceLine = true;
    if (m[8] !== 'D' || !isRead(m[9]!)) return;
    const bad = firstBinaryByte(text);
    if (bad !== -1) throw new FormatError(source, offset + bad, `line ${lineNumber}: binary data in blkparse output`);
    const rest = m[10] ?? '';
    const req = FS_REQUEST.exec(rest);
    if (req === null) {
      if (PC_REQUEST.test(rest)) {
        pcRequests++;
        return;
      }
      throw new FormatError(source, offset, `line ${lineNumber}: malformed read request ${excerpt(text)}`);
    }
    if (!terminated) {
      throw new FormatError(source, offset, `line ${lineNumber} is cut short (no newline at the end of the output)`);
    }
    const sector = parseCount(req[1]!);
    const count = parseCount(req[2]!);
    const sec = parseCount(m[5]!);
    const nsec = parseCount(m[6]!);
    if (sector === undefined || count === undefined || sec === undefined || nsec === undefined) {
      throw new FormatError(source, offset, `line ${lineNumber}: number out of range ${excerpt(text)}`);
    }
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
  });

  const devices: TraceDevice[] = [...readsPerDevice].map(([id, n]) => {
    const [major] = id.split(',');
    const kind = linuxDeviceKind(Number(major));
    return { id, kind, description: `${id} (${kind}, ${n} reads issued to the driver)` };
  });
  const notes = pcRequests > 0 ? [`${pcRequests} packet-command reads without a sector skipped`] : [];
  return { source, format: 'blkparse', events, devices, notes };
}
