import { FormatError } from '../errors.js';
import { ByteStrings } from './byte-fields.js';
import { qemuFastRows, type QemuState } from './qemu-fast-rows.js';
import { RowProblems } from './row-problems.js';
import { MAX_LINE_BYTES, excerpt, firstBinaryByte, forEachLineBatched, headLines, parseCount } from './text-lines.js';
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
  let skippedLines = 0;
  // a bad line is named and skipped (issue 11): the other lines are good only if they parse
  const problems = new RowProblems(source, 'a qemu trace log');
  const skip = (offset: number, message: string): void => problems.add(new FormatError(source, offset, message), reads.length + skippedLines);

  const state: QemuState = { reads, pointers: new ByteStrings(), blkDevices: new Map(), originSec: undefined, taken: 0 };
  // the common line is read straight from the bytes (qemu-fast-rows.ts); the rest, and every report, here
  const fast = {
    take: (start: number): number => (options.textOnly === true ? start : qemuFastRows(state, bytes, start, bytes.length)),
    taken: (): number => state.taken,
  };

  forEachLineBatched(bytes, source, fast, (text, offset, lineNumber, terminated) => {
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
      const origin = (state.originSec ??= sec);
      timeNs = (sec - origin) * 1e9 + usec * 1000;
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
  let events: BlockEvent[];
  if (dropped.size === 0 && superseded.size === 0) {
    // the common case, no read left out: no set look-ups for a million reads
    events = reads;
    for (let i = 0; i < reads.length; i++) reads[i]!.seq = i;
  } else {
    events = [];
    for (const e of reads) {
      if (dropped.has(e) || superseded.has(e.device)) continue;
      e.seq = events.length;
      events.push(e);
    }
  }
  return { source, format: 'qemu', events, devices, notes };
}

const isIde = (e: BlockEvent): boolean => e.device.startsWith('ide@');

/** qemu probes the image format with one 512-byte read at offset 0 before the guest runs. */
function formatProbes(reads: readonly BlockEvent[], notes: string[]): Set<BlockEvent> {
  const seen = new Set<string>();
  const probes = new Set<BlockEvent>();
  let previous: string | undefined;
  for (const e of reads) {
    // the reads of a device come in runs: only a run's first read can be its first
    if (e.device === previous) continue;
    previous = e.device;
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
  // reads are counted per run of one device (in the order devices first appear), not one map update each
  let run: string | undefined;
  let runReads = 0;
  let runIsIde = false;
  for (const e of reads) {
    if (dropped.size > 0 && dropped.has(e)) continue;
    if (e.device !== run) {
      if (run !== undefined) counts.set(run, counts.get(run)! + runReads);
      run = e.device;
      runReads = 0;
      runIsIde = isIde(e);
      if (!counts.has(run)) counts.set(run, 0);
    }
    runReads++;
    if (!runIsIde) continue;
    let list = ideReads.get(e.device);
    if (list === undefined) ideReads.set(e.device, (list = []));
    list.push(e.offset);
  }
  if (run !== undefined) counts.set(run, counts.get(run)! + runReads);
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
