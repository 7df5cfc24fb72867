import type { Layout } from '../image/layout.js';
import { coalesce, totalLength, type ByteRange } from './readahead.js';

/*
 * Block-device probes: what a live boot reads that no file and no squashfs table explains. When a
 * block device appears, the kernel scans it for a partition table and udev runs its blkid builtin
 * on it: superblock magics near the start, at growing offsets, and backup labels near the end.
 * A live boot does this twice on the medium's bytes: once for the CD (sr0) and once for the loop
 * device over filesystem.squashfs. After a readahead sweep these small reads land far behind the
 * head: on a re-boot of bench-real they were 12 of the 15 far seeks left. Reading their windows
 * in the sweep leaves them in the page caches the probes read through (the loop device's, and the
 * medium's own block device cache), so they cost nothing later.
 */

/** A window a probe reads: from `start` bytes into the device, or from its end when negative. */
export interface ProbeWindow {
  start: number;
  length: number;
}

const KIB = 1024;
const MIB = 1024 * KIB;

/**
 * Named window sets for `--probe-windows`. `udev`: what the kernel's partition scan and udev's
 * blkid read on every block device, measured with qemu's block trace on Debian 12 (udev 252,
 * util-linux 2.38, kernel 6.1) for both the CD and the loop device: the first 768 KiB, 4 KiB at
 * each power of two up to 4 MiB, and the last 548 KiB; rounded up here to whole readahead
 * windows (128 KiB) so that the probes' own readahead finds its pages too.
 */
export const PROBE_WINDOW_SETS = {
  udev: [
    { start: 0, length: 1 * MIB + 128 * KIB },
    { start: 2 * MIB, length: 128 * KIB },
    { start: 4 * MIB, length: 128 * KIB },
    { start: -640 * KIB, length: 640 * KIB },
  ],
  none: [],
} as const satisfies Record<string, readonly ProbeWindow[]>;

export type ProbeWindowSet = keyof typeof PROBE_WINDOW_SETS;
export const PROBE_WINDOW_SET_NAMES = Object.keys(PROBE_WINDOW_SETS) as ProbeWindowSet[];

/** One line of a ranges file: a loopback range, or a window of the medium (the ISO's device). */
export interface RangeLine {
  /** Bytes into the loopback file, or into the medium; negative: from the medium's end. */
  offset: number;
  length: number;
  /** Read from the medium's block device, not from the loopback. */
  medium: boolean;
}

export interface ProbeWindowsResult {
  lines: RangeLine[];
  /** Bytes the windows add to the ranges (beyond what the ranges already read). */
  addedBytes: number;
}

/** The windows of a set on a device of `size` bytes, clipped to it: [start, end) pairs. */
export function resolveWindows(windows: readonly ProbeWindow[], size: number): [number, number][] {
  const out: [number, number][] = [];
  for (const w of windows) {
    const start = w.start < 0 ? size + w.start : w.start;
    const from = Math.max(0, start);
    const to = Math.min(size, start + w.length);
    if (to > from) out.push([from, to]);
  }
  return out;
}

/**
 * The ranges file's lines with the probe windows added, in the order of their bytes on the medium
 * (one sweep): the loopback's windows join the loopback ranges (`ranges`, relative to `base`, the
 * squashfs's offset on the medium); the medium's windows, when the squashfs sits inside an ISO and
 * the ranges are loopback-relative, become `medium` lines, those near the end counted from it
 * (the medium grows when the ranges file is added to it). With `onMedium`, a bare squashfs gets
 * the medium's windows too: those from the start first, those from the end (negative) last.
 */
export function addProbeWindows(
  ranges: readonly ByteRange[],
  layout: Layout,
  windows: readonly ProbeWindow[],
  options: { base: number; gap: number; onMedium?: boolean },
): ProbeWindowsResult {
  const before = totalLength(ranges);
  const loopSize = layout.squashfsSize ?? layout.size;
  const loopbackBase = layout.squashfsOffset ?? 0;
  const loopback: ByteRange[] = [...ranges];
  // Loopback windows, in the coordinates of `ranges` (relative to base).
  for (const [s, e] of resolveWindows(windows, loopSize)) loopback.push({ offset: s + loopbackBase - options.base, length: e - s });
  const merged = coalesce(
    loopback.filter((r) => r.offset >= 0),
    options.gap,
  );
  const positioned: { position: number; line: RangeLine }[] = merged.map((r) => ({
    position: r.offset + options.base,
    line: { offset: r.offset, length: r.length, medium: false },
  }));
  let added = totalLength(merged) - before;
  // The medium's own windows: only when the loopback is a file inside it and lines are loopback-relative.
  if (loopbackBase > 0 && options.base === loopbackBase) {
    const head = coalesceSpans(resolveWindows(windows.filter((w) => w.start >= 0), layout.size));
    const tail = coalesceSpans(resolveWindows(windows.filter((w) => w.start < 0), layout.size));
    for (const [s, e] of head) positioned.push({ position: s, line: { offset: s, length: e - s, medium: true } });
    for (const [s, e] of tail) positioned.push({ position: s, line: { offset: s - layout.size, length: e - s, medium: true } });
    for (const [s, e] of [...head, ...tail]) added += e - s;
  }
  // A bare squashfs that will be put on a medium (a live-build binary hook runs before the ISO
  // exists): the medium's windows from its start come before the squashfs, those from its end after.
  if (loopbackBase === 0 && options.onMedium === true) {
    const end = Math.max(0, ...positioned.map((p) => p.position + p.line.length)) + 1;
    for (const w of windows) {
      if (w.start >= 0) positioned.push({ position: w.start - Number.MAX_SAFE_INTEGER, line: { offset: w.start, length: w.length, medium: true } });
      else positioned.push({ position: end - w.start, line: { offset: w.start, length: Math.min(w.length, -w.start), medium: true } });
      added += Math.min(w.length, w.start < 0 ? -w.start : w.length);
    }
  }
  positioned.sort((a, b) => a.position - b.position || Number(b.line.medium) - Number(a.line.medium));
  return { lines: positioned.map((p) => p.line), addedBytes: Math.max(0, added) };
}

function coalesceSpans(spans: [number, number][]): [number, number][] {
  return coalesce(
    spans.map(([s, e]) => ({ offset: s, length: e - s })),
    0,
  ).map((r) => [r.offset, r.offset + r.length]);
}

/**
 * One range per line, "offset length" in decimal bytes, and "offset length medium" for a window
 * of the medium's device (a negative offset counts from its end): easy for
 * `while read off len where; do dd ...`.
 */
export function renderRangeLines(lines: readonly RangeLine[]): string {
  let s = '';
  for (const l of lines) s += l.medium ? `${l.offset} ${l.length} medium\n` : `${l.offset} ${l.length}\n`;
  return s;
}
