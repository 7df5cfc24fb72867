import { FormatError } from '../errors.js';
import { ByteStrings, bytesStartWith, countAt, digitsEnd } from './byte-fields.js';
import { RowProblems } from './row-problems.js';
import { MAX_LINE_BYTES, excerpt, firstBinaryByte, forEachLineFast, headLines, parseCount } from './text-lines.js';
import type { BlockEvent, Trace, TraceDevice } from './types.js';

/**
 * qemu's "log" trace backend (`-trace ... -D FILE`), docs/formats.md §3.
 *
 * Two events give the guest's reads of its disks:
 * - `blk_co_preadv blk 0x.. bs 0x.. offset N bytes N flags 0x..`: byte offsets, any device,
 *   one device per `blk` pointer;
 * - `ide_atapi_cmd_read IDEState: 0x..; read dma: LBA=N nb_sectors=N`: one per ATAPI READ
 *   command, in 2048-byte CD sectors, one device per IDEState pointer.
 * Lines may carry the `-msg timestamp=on` prefix `PID@SEC.USEC:`. Every other event is skipped.
 */

const TIMESTAMP = /^(\d+)@(\d+)\.(\d+):/;
const POINTER = '(0x[0-9a-fA-F]+|\\(nil\\))';
const BLK_CO_PREADV = new RegExp(
  `^blk_co_preadv blk ${POINTER} bs ${POINTER} offset (\\d+) bytes (\\d+) flags (0x[0-9a-fA-F]+)$`,
);
const IDE_ATAPI_CMD_READ = new RegExp(
  `^ide_atapi_cmd_read IDEState: ${POINTER}; read (\\w+): LBA=(-?\\d+) nb_sectors=(-?\\d+)$`,
);
const BLK_NAME = 'blk_co_preadv ';
const IDE_NAME = 'ide_atapi_cmd_read ';

const CD_SECTOR = 2048;

export function looksLikeQemuLog(head: Buffer): boolean {
  const text = head.toString('latin1');
  if (/(?:^|\n)(?:\d+@\d+\.\d+:)?(?:blk_co_preadv blk |ide_atapi_cmd_read IDEState)/.test(text)) return true;
  // A log whose first lines are other qemu trace events (the reads come later in the file).
  const lines = headLines(head, 3);
  return lines.length > 0 && lines.every((l) => /^(?:\d+@\d+\.\d+:)(?:[a-z][a-z0-9_]*) /.test(l));
}

/** `textOnly` turns the byte fast path off: the tests check that both paths agree. */
export function parseQemuLog(bytes: Buffer, source: string, options: { textOnly?: boolean } = {}): Trace {
  const reads: BlockEvent[] = [];
  let originSec: number | undefined;
  let skippedLines = 0;
  // a bad line is named and skipped (issue 11): the other lines are good only if they parse
  const problems = new RowProblems(source, 'a qemu trace log');
  const skip = (offset: number, message: string): void => problems.add(new FormatError(source, offset, message), reads.length + skippedLines);

  const pointers = new ByteStrings();
  const blkDevices = new Map<string, string>();
  const length = bytes.length;
  /** The end of hex digits from `at` (at most 16 of them), or -1. */
  const hexEnd = (at: number): number => {
    let k = at;
    while (k < length && k - at <= 16) {
      const c = bytes[k]!;
      const lower = c | 0x20; // a-f and A-F
      if (!((c >= 0x30 && c <= 0x39) || (lower >= 0x61 && lower <= 0x66))) break;
      k++;
    }
    return k === at || k - at > 16 ? -1 : k;
  };
  /** `0x...` or `(nil)` at `at`: its end, or -1. */
  const pointerEnd = (at: number): number => {
    if (bytesStartWith(bytes, at, length, '(nil)')) return at + 5;
    return bytesStartWith(bytes, at, length, '0x') ? hexEnd(at + 2) : -1;
  };
  /** `word` then a decimal at `at`: the decimal's end, or -1. */
  const numberAfter = (at: number, word: string): number => {
    if (!bytesStartWith(bytes, at, length, word)) return -1;
    const end = digitsEnd(bytes, at + word.length, length);
    return end === at + word.length ? -1 : end;
  };

  /*
   * The common line, `[PID@SEC.USEC:]blk_co_preadv blk 0x.. bs 0x.. offset N bytes N flags 0x..`,
   * read from the bytes (parsing a big log was mostly regexes and string slices). It accepts a
   * subset of what the text path accepts, with the same values; any other line (other events,
   * ide_atapi_cmd_read, CRLF, anything malformed) returns -1 and goes through the text path.
   */
  const fast = (start: number): number => {
    if (options.textOnly === true) return -1;
    let at = start;
    let timeNs: number | undefined;
    if (bytes[at]! >= 0x30 && bytes[at]! <= 0x39) {
      at = digitsEnd(bytes, at, length);
      if (bytes[at] !== 0x40 /* @ */) return -1;
      const secEnd = digitsEnd(bytes, at + 1, length);
      const sec = countAt(bytes, at + 1, secEnd);
      if (sec === undefined || bytes[secEnd] !== 0x2e /* . */) return -1;
      const usecEnd = digitsEnd(bytes, secEnd + 1, length);
      const usec = countAt(bytes, secEnd + 1, usecEnd);
      if (usec === undefined || usec >= 1_000_000 || bytes[usecEnd] !== 0x3a /* : */) return -1;
      originSec ??= sec;
      timeNs = (sec - originSec) * 1e9 + usec * 1000;
      at = usecEnd + 1;
    }
    if (!bytesStartWith(bytes, at, length, 'blk_co_preadv blk ')) return -1;
    const blkStart = at + 18;
    const blkEnd = pointerEnd(blkStart);
    if (blkEnd === -1 || !bytesStartWith(bytes, blkEnd, length, ' bs ')) return -1;
    const bsEnd = pointerEnd(blkEnd + 4);
    if (bsEnd === -1) return -1;
    const offsetEnd = numberAfter(bsEnd, ' offset ');
    if (offsetEnd === -1) return -1;
    const bytesEnd = numberAfter(offsetEnd, ' bytes ');
    if (bytesEnd === -1 || !bytesStartWith(bytes, bytesEnd, length, ' flags 0x')) return -1;
    const flagsEnd = hexEnd(bytesEnd + 9);
    if (flagsEnd === -1 || bytes[flagsEnd] !== 0x0a) return -1;
    const offset = countAt(bytes, bsEnd + 8, offsetEnd);
    const size = countAt(bytes, offsetEnd + 7, bytesEnd);
    if (offset === undefined || size === undefined) return -1;
    const pointer = pointers.get(bytes, blkStart, blkEnd);
    let device = blkDevices.get(pointer);
    if (device === undefined) blkDevices.set(pointer, (device = `blk@${pointer}`));
    reads.push(
      timeNs === undefined
        ? { kind: 'block', seq: 0, device, offset, length: size }
        : { kind: 'block', seq: 0, device, offset, length: size, timeNs },
    );
    return flagsEnd;
  };

  forEachLineFast(bytes, source, fast, (text, offset, lineNumber, terminated) => {
    if (text.length === 0) return;
    let body = text;
    let timeNs: number | undefined;
    const stamp = text.charCodeAt(0) >= 0x30 && text.charCodeAt(0) <= 0x39 ? TIMESTAMP.exec(text) : null;
    if (stamp !== null) {
      const sec = parseCount(stamp[2]!);
      const usec = parseCount(stamp[3]!);
      if (sec === undefined || usec === undefined || usec >= 1_000_000) {
        return skip(offset, `line ${lineNumber}: bad timestamp prefix ${excerpt(text)}`);
      }
      // Wall-clock seconds since 1970 in ns do not fit a double exactly: count from the first line's second.
      originSec ??= sec;
      timeNs = (sec - originSec) * 1e9 + usec * 1000;
      body = text.slice(stamp[0].length);
    }
    const isBlk = body.startsWith(BLK_NAME);
    if (!isBlk && !body.startsWith(IDE_NAME)) {
      const bad = firstBinaryByte(text);
      if (bad !== -1) return skip(offset + bad, `line ${lineNumber}: binary data in a qemu log`);
      skippedLines++;
      return;
    }
    if (!terminated) return skip(offset, `line ${lineNumber} is cut short (no newline at the end of the log)`);
    const m = (isBlk ? BLK_CO_PREADV : IDE_ATAPI_CMD_READ).exec(body);
    const first = m ? parseCount(m[3]!) : undefined;
    const second = m ? parseCount(m[4]!) : undefined;
    if (m === null || first === undefined || second === undefined) {
      const bad = firstBinaryByte(text);
      if (bad !== -1) return skip(offset + bad, `line ${lineNumber}: binary data in a qemu log`);
      const name = isBlk ? 'blk_co_preadv' : 'ide_atapi_cmd_read';
      return skip(offset, `line ${lineNumber}: malformed ${name} event ${excerpt(text)}`);
    }
    const event: BlockEvent = isBlk
      ? { kind: 'block', seq: 0, device: `blk@${m[1]}`, offset: first, length: second }
      : { kind: 'block', seq: 0, device: `ide@${m[1]}`, offset: first * CD_SECTOR, length: second * CD_SECTOR };
    if (timeNs !== undefined) event.timeNs = timeNs;
    reads.push(event);
  }, (offset, lineNumber) => skip(offset, `line ${lineNumber}: line longer than ${MAX_LINE_BYTES} bytes: not a record`));

  const notes: string[] = problems.notes();
  const dropped = formatProbes(reads, notes);
  const { superseded, devices } = chooseOneSourcePerDevice(reads, dropped, notes);
  if (skippedLines > 0) notes.push(`${skippedLines} lines of other qemu events or messages skipped`);
  const events: BlockEvent[] = [];
  for (const e of reads) {
    if (dropped.has(e) || superseded.has(e.device)) continue;
    e.seq = events.length;
    events.push(e);
  }
  return { source, format: 'qemu', events, devices, notes };
}

const isIde = (e: BlockEvent): boolean => e.device.startsWith('ide@');

/** qemu probes the image format with one 512-byte read at offset 0 before the guest runs. */
function formatProbes(reads: readonly BlockEvent[], notes: string[]): Set<BlockEvent> {
  const seen = new Set<string>();
  const probes = new Set<BlockEvent>();
  for (const e of reads) {
    if (seen.has(e.device)) continue;
    seen.add(e.device);
    if (!isIde(e) && e.offset === 0 && e.length === 512) probes.add(e);
  }
  if (probes.size > 0) notes.push(`${probes.size} format-probe read(s) of 512 bytes at offset 0 ignored`);
  return probes;
}

/**
 * An ATAPI read shows up as one ide_atapi_cmd_read and one or more blk_co_preadv (one per DMA
 * chunk), both at the same byte offset. When most of an IDE device's reads start where a blk
 * device's reads start, they are the same drive: keep the blk events (byte offsets, every chunk)
 * and drop the IDE ones, so no read is counted twice.
 */
function chooseOneSourcePerDevice(
  reads: readonly BlockEvent[],
  dropped: ReadonlySet<BlockEvent>,
  notes: string[],
): { superseded: Set<string>; devices: TraceDevice[] } {
  const counts = new Map<string, number>();
  const ideReads = new Map<string, number[]>();
  for (const e of reads) {
    if (dropped.has(e)) continue;
    counts.set(e.device, (counts.get(e.device) ?? 0) + 1);
    if (!isIde(e)) continue;
    let list = ideReads.get(e.device);
    if (list === undefined) ideReads.set(e.device, (list = []));
    list.push(e.offset);
  }
  const superseded = new Set<string>();
  const cdBlk = new Map<string, string>();
  if (ideReads.size > 0) {
    const starts = new Map<string, Set<number>>();
    for (const e of reads) {
      if (isIde(e) || dropped.has(e)) continue;
      let set = starts.get(e.device);
      if (set === undefined) starts.set(e.device, (set = new Set()));
      set.add(e.offset);
    }
    for (const [ide, offsets] of ideReads) {
      let best: string | undefined;
      let bestMatches = 0;
      for (const [blk, set] of starts) {
        let matches = 0;
        for (const o of offsets) if (set.has(o)) matches++;
        if (matches > bestMatches) {
          best = blk;
          bestMatches = matches;
        }
      }
      if (best !== undefined && bestMatches * 2 >= offsets.length) {
        superseded.add(ide);
        cdBlk.set(best, ide);
        notes.push(
          `${offsets.length} ide_atapi_cmd_read events of ${ide} are the same reads as blk_co_preadv on ${best}: counted once, from ${best}`,
        );
      }
    }
  }

  const devices: TraceDevice[] = [];
  for (const [id, n] of counts) {
    if (superseded.has(id)) continue;
    if (id.startsWith('ide@')) {
      devices.push({ id, kind: 'cdrom', description: `qemu ATAPI CD drive ${id} (ide_atapi_cmd_read, ${n} reads)` });
    } else if (cdBlk.has(id)) {
      devices.push({
        id,
        kind: 'cdrom',
        description: `qemu block backend ${id} (blk_co_preadv, ${n} reads; the CD drive ${cdBlk.get(id)})`,
      });
    } else {
      devices.push({ id, kind: 'unknown', description: `qemu block backend ${id} (blk_co_preadv, ${n} reads)` });
    }
  }
  return { superseded, devices };
}
