import type { BlockEvent, FileEvent, FileEventKind, Trace, TraceEvent } from './types.js';

/*
 * The module's event log as columns (issue 12): a desktop boot logs millions of events, and one
 * JS object per event made the parse mostly allocation and garbage collection (and ~300 bytes of
 * heap per event). Here an event is one slot in each typed array (~53 bytes) and its path, comm
 * and device are ids into tables of the distinct values. The profile and the optimizer read the
 * columns; `trace.events` is built from them only when another consumer asks for it.
 */

const FILE_KINDS: readonly FileEventKind[] = ['open', 'exec', 'read', 'fault'];
/** The kind code of a block event (the module's sqread: offsets inside the squashfs). */
export const BLOCK_KIND = 4;
export const KIND_CODE: Readonly<Record<FileEventKind | 'block', number>> = { open: 0, exec: 1, read: 2, fault: 3, block: BLOCK_KIND };

export class EventColumns {
  count = 0;
  /** Events that are block reads, and file events that name no path (inode only). */
  blocks = 0;
  pathless = 0;
  kind: Uint8Array;
  time: Float64Array;
  pid: Float64Array;
  /** Index into `strings`, -1: no path (or a block event). */
  path: Int32Array;
  comm: Int32Array;
  /** NaN: none. */
  offset: Float64Array;
  length: Float64Array;
  ino: Float64Array;
  /** Index into `devs`, -1: none. */
  dev: Int32Array;

  /**
   * `strings`: the paths and comms by id; `devs`: the "major:minor" devices by id. `capacity`: how
   * many events to make room for at first (growing copies every column).
   */
  constructor(readonly strings: readonly string[], readonly devs: readonly string[], capacity = 1024) {
    const n = Math.max(16, Math.ceil(capacity));
    this.kind = new Uint8Array(n);
    this.time = new Float64Array(n);
    this.pid = new Float64Array(n);
    this.path = new Int32Array(n);
    this.comm = new Int32Array(n);
    this.offset = new Float64Array(n);
    this.length = new Float64Array(n);
    this.ino = new Float64Array(n);
    this.dev = new Int32Array(n);
  }

  /** Append an event; numbers that are absent are NaN (ids -1). Returns its index. */
  push(kind: number, time: number, pid: number, path: number, comm: number, offset: number, length: number, ino: number, dev: number): number {
    const i = this.count;
    if (i === this.kind.length) this.grow();
    this.kind[i] = kind;
    this.time[i] = time;
    this.pid[i] = pid;
    this.path[i] = path;
    this.comm[i] = comm;
    this.offset[i] = offset;
    this.length[i] = length;
    this.ino[i] = ino;
    this.dev[i] = dev;
    if (kind === BLOCK_KIND) this.blocks++;
    else if (path === -1) this.pathless++;
    this.count = i + 1;
    return i;
  }

  private grow(): void {
    const size = this.kind.length * 2;
    const more = <T extends Uint8Array | Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.kind = more(this.kind);
    this.time = more(this.time);
    this.pid = more(this.pid);
    this.path = more(this.path);
    this.comm = more(this.comm);
    this.offset = more(this.offset);
    this.length = more(this.length);
    this.ino = more(this.ino);
    this.dev = more(this.dev);
  }

  /** Event i as the object the other parsers make (seq is its index). */
  event(i: number): TraceEvent {
    const kind = this.kind[i]!;
    if (kind === BLOCK_KIND) {
      const block: BlockEvent = { kind: 'block', seq: i, timeNs: this.time[i]!, device: this.devs[this.dev[i]!]!, offset: this.offset[i]!, length: this.length[i]!, squashfsOffset: true };
      return block;
    }
    const path = this.path[i]!;
    const event: FileEvent = { kind: FILE_KINDS[kind]!, seq: i, timeNs: this.time[i]!, path: path === -1 ? '' : this.strings[path]!, pid: this.pid[i]!, comm: this.strings[this.comm[i]!]! };
    if (!Number.isNaN(this.offset[i]!)) {
      event.offset = this.offset[i]!;
      event.length = this.length[i]!;
    }
    if (!Number.isNaN(this.ino[i]!)) event.ino = this.ino[i]!;
    if (this.dev[i]! !== -1) event.dev = this.devs[this.dev[i]!]!;
    return event;
  }

  events(): TraceEvent[] {
    const out = new Array<TraceEvent>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.event(i);
    return out;
  }

  /**
   * The file events, without those that repeat an earlier one: the same path, device and inode,
   * no byte outside the ranges that earlier events of that file read (an open or exec: any earlier
   * event of the file), and the inode still named by that path. Such an event adds nothing to a
   * boot as the optimizer models it (src/optimize/boots.ts: the page cache already holds its bytes),
   * and a boot repeats most of its reads: what is left grows with the files and their extents.
   */
  fileEventsWithoutRepeats(): FileEvent[] {
    const out: FileEvent[] = [];
    const paths = this.strings.length;
    // per file (path, dev, ino): the merged byte ranges read so far, sorted and disjoint, as
    // [a0, b0, a1, b1, ...]; by path id for the inode the path was last seen with, the lists of
    // its other inodes put aside by a string key (a path is opened without an inode, then read with one)
    const byPath = new Array<number[] | undefined>(paths);
    const pathDev = new Int32Array(paths);
    const pathIno = new Float64Array(paths);
    const others = new Map<string, number[]>();
    // which path last named each inode (by dev id + 1, then inode), and whether a path still names
    // the inode it was last seen with: the common repeat needs no map look-up
    const names: Map<number, number>[] = [];
    const naming = new Uint8Array(paths);
    let sawRange = false; // boots.ts asks whether any event has a range at all: the first one stays
    for (let i = 0; i < this.count; i++) {
      if (this.kind[i] === BLOCK_KIND) continue;
      const path = this.path[i]!;
      if (path === -1) {
        out.push(this.event(i) as FileEvent); // named by an earlier open of its inode: always kept
        continue;
      }
      const ino = this.ino[i]!;
      const dev = this.dev[i]!;
      let list = byPath[path];
      let first = false;
      if (list === undefined) {
        list = byPath[path] = [];
        pathDev[path] = dev;
        pathIno[path] = ino;
        first = true;
      } else if (pathDev[path] !== dev || !(pathIno[path] === ino || (ino !== ino && pathIno[path] !== pathIno[path]))) {
        others.set(`${path}:${pathDev[path]!}:${pathIno[path]!}`, list);
        const key = `${path}:${dev}:${ino}`;
        list = others.get(key);
        first = list === undefined;
        if (list === undefined) list = [];
        byPath[path] = list;
        pathDev[path] = dev;
        pathIno[path] = ino;
        naming[path] = 0;
      }
      let renames = false;
      if (ino === ino && naming[path] !== 1) {
        const inodes = (names[dev + 1] ??= new Map<number, number>());
        const before = inodes.get(ino);
        renames = before !== path;
        if (renames) {
          inodes.set(ino, path);
          if (before !== undefined && pathDev[before] === dev && pathIno[before] === ino) naming[before] = 0;
        }
        naming[path] = 1;
      }
      const offset = this.offset[i]!;
      const length = this.length[i]!;
      const firstRange = !sawRange && offset === offset;
      if (firstRange) sawRange = true;
      const added = offset === offset && length > 0 && addRange(list, offset, offset + length);
      if (first || renames || added || firstRange) out.push(this.event(i) as FileEvent);
    }
    return out;
  }
}

/**
 * The byte ranges the file events read, by path as logged (events without a path left out), each
 * path's list merged as src/map's mergeRanges merges: ranges that overlap or touch become one, an
 * empty range is a point. Merging these lists again gives what merging every event's range would.
 */
export function readRangesByPath(columns: EventColumns): Map<string, [number, number][]> {
  const lists = new Array<[number, number][] | undefined>(columns.strings.length);
  const merged = new Int32Array(columns.strings.length); // how long each list was when last merged
  const { kind, path, offset, length } = columns;
  for (let i = 0; i < columns.count; i++) {
    const id = path[i]!;
    const a = offset[i]!;
    if (id === -1 || kind[i] === BLOCK_KIND || a !== a) continue;
    const list = (lists[id] ??= []);
    list.push([a, a + length[i]!]);
    // merged again whenever it doubles: memory stays with the distinct ranges, not the events
    if (list.length >= 2 * merged[id]! + 8) {
      const out = mergeClosed(list);
      lists[id] = out;
      merged[id] = out.length;
    }
  }
  const out = new Map<string, [number, number][]>();
  lists.forEach((list, id) => {
    if (list !== undefined) out.set(columns.strings[id]!, mergeClosed(list));
  });
  return out;
}

/** Sorted by start, overlapping or touching ranges joined (an empty range is a point). */
function mergeClosed(ranges: [number, number][]): [number, number][] {
  const sorted = ranges.slice().sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const out: [number, number][] = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/** Add [a, b) to the sorted, disjoint ranges `list` ([a0, b0, a1, b1, ...]); false when it was inside them already. */
function addRange(list: number[], a: number, b: number): boolean {
  // the first range that ends at or after a
  let lo = 0;
  let hi = list.length >> 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[2 * mid + 1]! < a) lo = mid + 1;
    else hi = mid;
  }
  if (2 * lo < list.length && list[2 * lo]! <= a && list[2 * lo + 1]! >= b) return false;
  let start = a;
  let end = b;
  let j = lo;
  while (2 * j < list.length && list[2 * j]! <= end) {
    start = Math.min(start, list[2 * j]!);
    end = Math.max(end, list[2 * j + 1]!);
    j++;
  }
  list.splice(2 * lo, 2 * (j - lo), start, end);
  return true;
}

const columnsOf = new WeakMap<Trace, EventColumns>();

/** A trace whose events are `columns`: `events` is built from them on first use. */
export function traceFromColumns(columns: EventColumns, fields: Omit<Trace, 'events'>): Trace {
  let events: TraceEvent[] | undefined;
  const trace: Trace = {
    ...fields,
    get events(): TraceEvent[] {
      return (events ??= columns.events());
    },
    set events(value: TraceEvent[]) {
      events = value;
      columnsOf.delete(trace);
    },
  };
  columnsOf.set(trace, columns);
  return trace;
}

/** The columns of a trace made by traceFromColumns (and not given other events since), else undefined. */
export function eventColumnsOf(trace: Trace): EventColumns | undefined {
  return columnsOf.get(trace);
}

/** How many events a trace holds, without building them. */
export function eventCount(trace: Trace): number {
  return columnsOf.get(trace)?.count ?? trace.events.length;
}
