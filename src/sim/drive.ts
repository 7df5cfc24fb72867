import type { DeviceModel } from './device.js';
import { rotationalLatencyMs, seekExponent, seekMs, transferMs } from './physics.js';
import { unionIntervals, type Reads } from './reads.js';

/** A jump of the head this long or longer, backward or forward, is a far seek (256 KiB). */
export const FAR_SEEK_BYTES = 256 * 1024;

/** What one read stream costs on one device. Times in ms, distances and sizes in bytes. */
export interface CostTotals {
  reads: number;
  /** Bytes the reads asked for. */
  bytes: number;
  /** Bytes that passed under the head (asked-for bytes plus the gaps streamed over), sector aligned. */
  mediaBytes: number;
  /** Reads served entirely from the drive's buffer. */
  hits: number;
  seeks: number;
  /** Seeks whose jump is at least FAR_SEEK_BYTES, either way. */
  farSeeks: number;
  seekDistance: number;
  seekMs: number;
  rotationMs: number;
  transferMs: number;
  totalMs: number;
  /** The same bytes (their union) read in one sweep with no seek and no rotational wait: never more than totalMs. */
  lowerBoundMs: number;
}

/** Per-read figures, for charts and blame. */
export interface RunDetail {
  /** Simulated clock (ms of device time) when read i completes. */
  endMs: Float64Array;
  /** Bytes the head jumped to start read i (0: no seek). */
  seekDistance: Float64Array;
  /** Seek plus rotational wait paid for read i. */
  positioningMs: Float64Array;
}

export interface DeviceRun {
  device: string;
  totals: CostTotals;
  detail?: RunDetail;
}

/**
 * Replay reads in issue order on one device. The head starts parked at offset 0 with the disc
 * spinning. Each read is widened to whole sectors, then:
 * - inside the bytes the drive has buffered (the last `bufferBytes` it streamed): a hit, free;
 * - starting inside the buffer or at the head: the drive streams on;
 * - a short way ahead (within `bufferBytes`): stream on over the gap or seek, whichever is cheaper;
 * - anywhere else: seek, wait half a revolution, transfer.
 * Pure and deterministic: the same reads give the same figures.
 */
export function simulateDevice(device: DeviceModel, reads: Reads, options: { detail?: boolean; lowerBound?: boolean } = {}): DeviceRun {
  const sector = device.sectorBytes;
  const exponent = seekExponent(device);
  const detail: RunDetail | undefined = options.detail
    ? {
        endMs: new Float64Array(reads.count),
        seekDistance: new Float64Array(reads.count),
        positioningMs: new Float64Array(reads.count),
      }
    : undefined;
  const t: CostTotals = {
    reads: reads.count,
    bytes: 0,
    mediaBytes: 0,
    hits: 0,
    seeks: 0,
    farSeeks: 0,
    seekDistance: 0,
    seekMs: 0,
    rotationMs: 0,
    transferMs: 0,
    totalMs: 0,
    lowerBoundMs: 0,
  };
  let head = 0; // end of the last byte streamed
  let streamStart = 0; // where the current uninterrupted stream began
  let clock = 0;
  for (let i = 0; i < reads.count; i++) {
    const len = reads.length[i]!;
    t.bytes += len;
    if (len > 0) {
      const a = Math.floor(reads.offset[i]! / sector) * sector;
      const b = Math.ceil((reads.offset[i]! + len) / sector) * sector;
      const bufferStart = Math.max(streamStart, head - device.bufferBytes);
      let seek = 0;
      let rotation = 0;
      let transfer = 0;
      let distance = 0;
      if (a >= bufferStart && b <= head) {
        t.hits++;
      } else if (a >= bufferStart && a <= head) {
        transfer = transferMs(device, head, b);
        t.mediaBytes += b - head;
        head = b;
      } else {
        const stream = a > head && a - head <= device.bufferBytes ? transferMs(device, head, b) : Infinity;
        const s = seekMs(device, head, a, exponent);
        const r = rotationalLatencyMs(device, a);
        const x = transferMs(device, a, b);
        if (stream <= s + r + x) {
          transfer = stream;
          t.mediaBytes += b - head;
        } else {
          seek = s;
          rotation = r;
          transfer = x;
          distance = Math.abs(a - head);
          t.seeks++;
          if (distance >= FAR_SEEK_BYTES) t.farSeeks++;
          t.seekDistance += distance;
          t.mediaBytes += b - a;
          streamStart = a;
        }
        head = b;
      }
      t.seekMs += seek;
      t.rotationMs += rotation;
      t.transferMs += transfer;
      clock += seek + rotation + transfer;
      if (detail) {
        detail.seekDistance[i] = distance;
        detail.positioningMs[i] = seek + rotation;
      }
    }
    if (detail) detail.endMs[i] = clock;
  }
  t.totalMs = t.seekMs + t.rotationMs + t.transferMs;
  // the union of the reads needs two sorts: a caller that only compares totals goes without (NaN)
  t.lowerBoundMs = options.lowerBound === false ? NaN : lowerBoundMs(device, reads);
  return detail ? { device: device.id, totals: t, detail } : { device: device.id, totals: t };
}

/**
 * The same bytes read in one sweep: the transfer time of the union of the (sector-aligned) reads,
 * with no seek and no rotational wait. Transfer time is additive over byte ranges, and every byte
 * a simulated read returns passed under the head at least once, so this never exceeds the run's total.
 */
export function lowerBoundMs(device: DeviceModel, reads: Reads): number {
  const { starts, ends } = unionIntervals(reads, device.sectorBytes);
  let total = 0;
  for (let i = 0; i < starts.length; i++) total += transferMs(device, starts[i]!, ends[i]!);
  return total;
}

/**
 * Far jumps in a read stream, on no particular device: reads (of at least one byte) that start at
 * least `thresholdBytes` before or after the end of the previous such read. The first read is
 * measured from `startOffset` (0: the head parked at the start, as in simulateDevice). A device
 * run's `farSeeks` measures from where its head is instead (a drive widens reads to sectors, streams
 * over short gaps and serves re-reads from its buffer), so the two can differ.
 */
export function farSeeks(reads: Reads, thresholdBytes: number = FAR_SEEK_BYTES, startOffset = 0): number {
  let at = startOffset;
  let count = 0;
  for (let i = 0; i < reads.count; i++) {
    const len = reads.length[i]!;
    if (!(len > 0)) continue;
    const start = reads.offset[i]!;
    if (Math.abs(start - at) >= thresholdBytes) count++;
    at = start + len;
  }
  return count;
}
