import type { BlockEvent, FileEvent, FileEventKind, Trace, TraceEvent } from './types.js';

/*
 * The module's event log without an object per event (issue 12): a desktop boot logs millions of
 * events, and one JS object per event made the parse mostly allocation and garbage collection
 * (~300 bytes of heap per event). While the log is parsed, an EventDigest keeps what the profile,
 * the optimizer and the simulator read (each path's first access and count, the events that are
 * not repeats, each path's read ranges): it grows with the files and their extents, not with the
 * events. `trace.events` is built only when another consumer asks for it: by parsing the log
 * again into EventColumns (an event is one slot in each typed array, ~53 bytes, its path, comm
 * and device ids into tables of the distinct values), or from the columns kept when the log
 * cannot be read twice.
 */

const FILE_KINDS: readonly FileEventKind[] = ['open', 'exec', 'read', 'fault'];
/** The kind code of a block event (the module's sqread: offsets inside the squashfs). */
export const BLOCK_KIND = 4;
export const KIND_CODE: Readonly<Record<FileEventKind | 'block', number>> = { open: 0, exec: 1, read: 2, fault: 3, block: BLOCK_KIND };

/** Every event of a log, one slot per event in each column. */
export class EventColumns {
  count = 0;
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
    return eventObject(i, this.kind[i]!, this.time[i]!, this.pid[i]!, this.path[i]!, this.comm[i]!, this.offset[i]!, this.length[i]!, this.ino[i]!, this.dev[i]!, this.strings, this.devs);
  }

  events(): TraceEvent[] {
    const out = new Array<TraceEvent>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.event(i);
    return out;
  }

}

/** Index of the first range of `list` ([a0, b0, a1, b1, ...], sorted) that ends at or after `at`. */
function firstRangeEndingFrom(list: readonly number[], at: number): number {
  let lo = 0;
  let hi = list.length >> 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[2 * mid + 1]! < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Add [a, b] to the sorted, disjoint ranges `list` ([a0, b0, a1, b1, ...]): ranges that overlap or
 * touch it are joined (an empty range is a point), as src/map's mergeRanges joins them. False when
 * it was inside them already.
 */
function addRange(list: number[], a: number, b: number): boolean {
  const lo = firstRangeEndingFrom(list, a);
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

/** One event as the object the other parsers make: numbers that are absent are NaN, ids -1. */
function eventObject(
  seq: number, kind: number, time: number, pid: number, path: number, comm: number,
  offset: number, length: number, ino: number, dev: number,
  strings: readonly string[], devs: readonly string[],
): TraceEvent {
  if (kind === BLOCK_KIND) {
    const block: BlockEvent = { kind: 'block', seq, timeNs: time, device: devs[dev]!, offset, length, squashfsOffset: true };
    return block;
  }
  const event: FileEvent = { kind: FILE_KINDS[kind]!, seq, timeNs: time, path: path === -1 ? '' : strings[path]!, pid, comm: strings[comm]! };
  if (offset === offset) {
    event.offset = offset;
    event.length = length;
  }
  if (ino === ino) event.ino = ino;
  if (dev !== -1) event.dev = devs[dev]!;
  return event;
}

/** A path as logged, the first event that names it, and how many events name it. */
export interface PathFirst {
  path: string;
  first: FileEvent;
  events: number;
}

/**
 * What the profile, the optimizer and the simulator need of a module log, gathered one event at
 * a time (`add`, in log order): it holds the distinct paths, the events that are not repeats and
 * the merged read ranges, never the events.
 */
export class EventDigest {
  count = 0;
  /** Events that are block reads, and file events that name no path (inode only). */
  blocks = 0;
  pathless = 0;
  private readonly order: number[] = [];
  private readonly firsts: FileEvent[] = [];
  private readonly counts: number[] = [];
  private readonly reduced: FileEvent[] = [];
  // the repeats: per file (path, dev, ino) the merged byte ranges read so far, sorted and disjoint,
  // as [a0, b0, a1, b1, ...]; by path id for the inode the path was last seen with, the lists of its
  // other inodes put aside by a string key (a path is opened without an inode, then read with one)
  private readonly extents: (number[] | undefined)[] = [];
  private readonly pathDev: number[] = [];
  private readonly pathIno: number[] = [];
  private readonly others = new Map<string, number[]>();
  // which path last named each inode (by dev id + 1, then inode), and whether a path still names
  // the inode it was last seen with: the common repeat needs no map look-up
  private readonly names: Map<number, number>[] = [];
  private readonly naming: boolean[] = [];
  private sawRange = false;
  // each path's read ranges, overlapping or touching ones joined, as [a0, b0, a1, b1, ...]
  private readonly ranges: (number[] | undefined)[] = [];
  // by path id: one range of the extents list of the file it names now (empty when unknown), so
  // that the common event of a big log, a read inside it, is told a repeat without the lists
  private coverFrom = new Float64Array(1024).fill(Infinity);
  private coverTo = new Float64Array(1024).fill(-Infinity);

  /** `strings`: the paths and comms by id; `devs`: the devices by id (tables that grow as the log is read). */
  constructor(private readonly strings: readonly string[], private readonly devs: readonly string[]) {}

  add(kind: number, time: number, pid: number, path: number, comm: number, offset: number, length: number, ino: number, dev: number): void {
    if (this.repeat(path, offset, length, ino, dev)) return;
    const seq = this.count++;
    if (kind === BLOCK_KIND) {
      this.blocks++;
      return;
    }
    if (path === -1) {
      this.pathless++;
      // named by an earlier open of its inode: always kept
      this.reduced.push(eventObject(seq, kind, time, pid, path, comm, offset, length, ino, dev, this.strings, this.devs) as FileEvent);
      return;
    }
    let event: FileEvent | undefined;
    if (this.counts[path] === undefined) {
      this.counts[path] = 1;
      this.order.push(path);
      event = this.firsts[path] = eventObject(seq, kind, time, pid, path, comm, offset, length, ino, dev, this.strings, this.devs) as FileEvent;
    } else {
      this.counts[path]!++;
    }
    if (offset === offset) addRange((this.ranges[path] ??= []), offset, offset + length);
    if (this.isNew(path, offset, length, ino, dev)) {
      this.reduced.push(event ?? (eventObject(seq, kind, time, pid, path, comm, offset, length, ino, dev, this.strings, this.devs) as FileEvent));
    }
    if (length > 0) this.cover(path, offset);
  }

  /**
   * Count the file event as a repeat if it is the common event of a big log, a read inside a range
   * that the file its path names read already (and so inside the path's ranges): what add does
   * with it, told from one kept range per path, without the range lists. False: not told that way
   * (it may still be a repeat), and nothing was counted. Its time, pid and comm are not needed.
   */
  repeat(path: number, offset: number, length: number, ino: number, dev: number): boolean {
    // no path (-1), no range (NaN), or no range kept yet: the comparisons are false
    if (!(offset >= this.coverFrom[path]! && offset + length <= this.coverTo[path]!) || !this.stillNames(path, ino, dev)) return false;
    this.count++;
    this.counts[path]!++;
    return true;
  }

  /** Does `path` still name the file (dev, ino) its extents list is for, as isNew asks? */
  private stillNames(path: number, ino: number, dev: number): boolean {
    const pathIno = this.pathIno[path];
    return this.pathDev[path] === dev && (ino === ino ? pathIno === ino && this.naming[path] === true : pathIno !== pathIno);
  }

  /** Keep the range of the path's extents list that holds `offset` (there is one after a read of it). */
  private cover(path: number, offset: number): void {
    if (path >= this.coverFrom.length) {
      const size = Math.max(path + 1, this.coverFrom.length * 2);
      const from = new Float64Array(size).fill(Infinity);
      const to = new Float64Array(size).fill(-Infinity);
      from.set(this.coverFrom);
      to.set(this.coverTo);
      this.coverFrom = from;
      this.coverTo = to;
    }
    const list = this.extents[path]!;
    const lo = firstRangeEndingFrom(list, offset);
    this.coverFrom[path] = list[2 * lo]!;
    this.coverTo[path] = list[2 * lo + 1]!;
  }

  /** Whether the optimizer can tell this event from the ones before it (see fileEventsWithoutRepeats). */
  private isNew(path: number, offset: number, length: number, ino: number, dev: number): boolean {
    const { pathDev, pathIno, naming } = this;
    let list = this.extents[path];
    let first = false;
    if (list === undefined) {
      list = this.extents[path] = [];
      pathDev[path] = dev;
      pathIno[path] = ino;
      first = true;
    } else if (pathDev[path] !== dev || !(pathIno[path] === ino || (ino !== ino && pathIno[path] !== pathIno[path]))) {
      this.others.set(`${path}:${pathDev[path]!}:${pathIno[path]!}`, list);
      const key = `${path}:${dev}:${ino}`;
      list = this.others.get(key);
      first = list === undefined;
      if (list === undefined) list = [];
      this.extents[path] = list;
      if (path < this.coverFrom.length) this.coverFrom[path] = Infinity; // that range was of the other file
      pathDev[path] = dev;
      pathIno[path] = ino;
      naming[path] = false;
    }
    let renames = false;
    if (ino === ino && naming[path] !== true) {
      const inodes = (this.names[dev + 1] ??= new Map<number, number>());
      const before = inodes.get(ino);
      renames = before !== path;
      if (renames) {
        inodes.set(ino, path);
        if (before !== undefined && pathDev[before] === dev && pathIno[before] === ino) naming[before] = false;
      }
      naming[path] = true;
    }
    // boots.ts asks whether any event has a range at all: the first one stays
    const firstRange = !this.sawRange && offset === offset;
    if (firstRange) this.sawRange = true;
    const added = offset === offset && length > 0 && addRange(list, offset, offset + length);
    return first || renames || added || firstRange;
  }

  /** Each path as logged, in the order of its first event, with that event and its count of events. */
  pathFirsts(): PathFirst[] {
    return this.order.map((id) => ({ path: this.strings[id]!, first: this.firsts[id]!, events: this.counts[id]! }));
  }

  /**
   * The file events, without those that repeat an earlier one: the same path, device and inode,
   * no byte outside the ranges that earlier events of that file read (an open or exec: any earlier
   * event of the file), and the inode still named by that path. Such an event adds nothing to a
   * boot as the optimizer models it (src/optimize/boots.ts: the page cache already holds its bytes),
   * and a boot repeats most of its reads: what is left grows with the files and their extents.
   */
  fileEventsWithoutRepeats(): FileEvent[] {
    return this.reduced.slice();
  }

  /**
   * The byte ranges the file events read, by path as logged (events without a path left out), each
   * path's list merged as src/map's mergeRanges merges: ranges that overlap or touch become one, an
   * empty range is a point. Merging these lists again gives what merging every event's range would.
   */
  readRangesByPath(): Map<string, [number, number][]> {
    const out = new Map<string, [number, number][]>();
    for (const id of this.order) {
      const list = this.ranges[id];
      if (list === undefined) continue;
      const pairs: [number, number][] = [];
      for (let k = 0; k < list.length; k += 2) pairs.push([list[k]!, list[k + 1]!]);
      out.set(this.strings[id]!, pairs);
    }
    return out;
  }
}

const digests = new WeakMap<Trace, EventDigest>();

/**
 * A module log's trace: `digest` of its events; `events()` builds them all, once, when a consumer
 * asks for `trace.events`.
 */
export function traceFromDigest(digest: EventDigest, events: () => TraceEvent[], fields: Omit<Trace, 'events'>): Trace {
  let built: TraceEvent[] | undefined;
  const trace: Trace = {
    ...fields,
    get events(): TraceEvent[] {
      return (built ??= events());
    },
    set events(value: TraceEvent[]) {
      built = value;
      digests.delete(trace);
    },
  };
  digests.set(trace, digest);
  return trace;
}

/** The digest of a trace made by traceFromDigest (and not given other events since), else undefined. */
export function eventDigestOf(trace: Trace): EventDigest | undefined {
  return digests.get(trace);
}

/** How many events a trace holds, without building them. */
export function eventCount(trace: Trace): number {
  return digests.get(trace)?.count ?? trace.events.length;
}
