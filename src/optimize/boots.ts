import type { FileEvent, Trace } from '../trace/types.js';
import { isFileEvent } from '../trace/types.js';
import type { Universe } from './universe.js';

/**
 * Each trace is one boot. The optimizer needs more than the merged first-access list: the order of
 * every read inside a boot, its time and process (to model how systemd's parallel start reshuffles
 * the next boot), and the ranges read (partly read large files).
 */
export interface BootAccess {
  /** Index into Universe.files. */
  file: number;
  offset: number;
  /** 0: the file was only opened or executed (its inode and directory entry are still read). */
  length: number;
  /** Time, or the event's position when the trace has no times. */
  time: number;
  /** Process, or -1 when the trace does not say. */
  pid: number;
}

export interface Boot {
  source: string;
  accesses: BootAccess[];
  /** Whether the trace recorded times and processes (what the perturbation needs). */
  timed: boolean;
}

export interface BootOptions {
  /** The file events of a trace, already mapped from its block reads when it has any. */
  fileEventsOf: (trace: Trace) => readonly FileEvent[];
  /** A profiled path (as the guest saw it) to a planned file's index, or undefined when it is not one. */
  fileOf: (path: string) => number | undefined;
}

export function bootsFromTraces(traces: readonly Trace[], universe: Universe, options: BootOptions): Boot[] {
  return traces.map((trace) => bootFromEvents(trace.source, options.fileEventsOf(trace).filter(isFileEvent), universe, options.fileOf));
}

function bootFromEvents(source: string, events: readonly FileEvent[], universe: Universe, fileOf: BootOptions['fileOf']): Boot {
  const ranged = events.some((e) => e.offset !== undefined && e.length !== undefined);
  const timed = events.length > 0 && events.every((e) => e.timeNs !== undefined && e.pid !== undefined);
  const covered = new Map<number, [number, number][]>();
  const opened = new Set<number>();
  const accesses: BootAccess[] = [];
  // The module logs page faults and reads by inode only; the open or exec of the same inode named it.
  const names = new Map<string, string>();
  events.forEach((e, position) => {
    const inode = e.ino !== undefined ? `${e.dev ?? ''}:${e.ino}` : undefined;
    let path = e.path;
    if (inode !== undefined) {
      if (path !== '') names.set(inode, path);
      else path = names.get(inode) ?? '';
    }
    const file = fileOf(path);
    if (file === undefined) return;
    const time = timed ? e.timeNs! : position;
    const pid = e.pid ?? -1;
    let offset = 0;
    let length = 0;
    if (!ranged) {
      length = universe.files[file]!.size; // a list of paths: the whole file was read
    } else if (e.offset !== undefined && e.length !== undefined && e.length > 0) {
      offset = Math.max(0, e.offset);
      length = Math.min(e.length, Math.max(0, universe.files[file]!.size - offset));
    }
    if (length === 0) {
      if (opened.has(file)) return;
      opened.add(file);
      accesses.push({ file, offset: 0, length: 0, time, pid });
      return;
    }
    opened.add(file);
    if (!addRange(covered, file, offset, offset + length)) return; // already read: the page cache has it
    accesses.push({ file, offset, length, time, pid });
  });
  return { source, accesses, timed };
}

/** Record [a, b) as read for `file`; false when it was read already. Ranges stay sorted and disjoint. */
function addRange(covered: Map<number, [number, number][]>, file: number, a: number, b: number): boolean {
  let list = covered.get(file);
  if (list === undefined) {
    covered.set(file, [[a, b]]);
    return true;
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]![1] < a) lo = mid + 1;
    else hi = mid;
  }
  // list[lo] is the first range ending at or after a
  const first = list[lo];
  if (first !== undefined && first[0] <= a && first[1] >= b) return false;
  let start = a;
  let end = b;
  let j = lo;
  while (j < list.length && list[j]![0] <= end) {
    start = Math.min(start, list[j]![0]);
    end = Math.max(end, list[j]![1]);
    j++;
  }
  list.splice(lo, j - lo, [start, end]);
  return true;
}

/** Bytes of each planned file that any boot read (union over boots), for the partly-read test. */
export function bytesRead(boots: readonly Boot[], universe: Universe): Float64Array {
  const ranges: [number, number][][] = universe.files.map(() => []);
  for (const boot of boots) for (const a of boot.accesses) if (a.length > 0) ranges[a.file]?.push([a.offset, a.offset + a.length]);
  return Float64Array.from(ranges, unionLength);
}

function unionLength(ranges: [number, number][]): number {
  ranges.sort((x, y) => x[0] - y[0]);
  let total = 0;
  let end = -1;
  for (const [a, b] of ranges) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total;
}
