import { FormatError, InputError } from '../errors.js';
import { RecordProblem } from './tsv-records.js';
import { RowProblems } from './row-problems.js';
import { ByteStrings } from './byte-fields.js';
import { BLOCK_KIND, EventColumns, EventDigest, KIND_CODE, traceFromDigest } from './event-columns.js';
import { fastRows, type EventSink, type EventsState } from './kmod-fast-rows.js';
import { fieldCount, fieldEquals, fieldIsByte, fieldText, scanTsvRecords, type TsvRow } from './tsv-scan.js';
import type { FileEvent, Trace, TraceDevice, TraceEvent } from './types.js';

/**
 * The module's debugfs `bootprof/events` file (docs/formats.md §5): a header line, then one event per
 * line in 10 tab-separated columns (the header has the magic plus the 10 column names):
 *   seq time_ns event pid comm dev ino offset length path
 * open/exec/read/fault become FileEvents (fault and read may carry only dev/ino, which the mapper
 * resolves through the image); sqread is squashfs's own block read, at an offset inside the squashfs.
 *
 * Every number is a u64 in the module. Values past 2^53 are accepted and kept as the nearest double:
 * time_ns passes 2^53 after 104 days of uptime (2 ns steps until 208 days), and an offset, length
 * or inode that large is never a real file range or a squashfs inode, so rounding changes nothing
 * (the mapper clamps ranges to the file). A bad row is left out and reported in `notes` with its
 * line and byte offset; only a file that is mostly not a bootprof log is refused.
 */

export const EVENTS_MAGIC = '#bootprof-events v1';
const HEADER = `${EVENTS_MAGIC}\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath`;
const COLUMNS = 10;
const DEV = /^\d{1,4}:\d{1,7}$/;
const DASH = 0x2d;
const U64_MAX = 0xffff_ffff_ffff_ffffn;

/** Field i as a u64: a number when it is a safe integer, else a bigint; undefined when not a u64. */
function u64At(f: TsvRow, i: number): number | bigint | undefined {
  const n = fieldCount(f, i);
  if (n !== undefined) return n;
  const text = fieldText(f, i); // rare: past 2^53 or not a number at all
  if (text.length === 0 || text.length > 20 || !/^\d+$/.test(text)) return undefined;
  const big = BigInt(text);
  return big <= U64_MAX ? big : undefined;
}

/** Field i as a u64 number (the nearest double past 2^53), or undefined. */
function u64NumberAt(f: TsvRow, i: number): number | undefined {
  const v = u64At(f, i);
  return typeof v === 'bigint' ? Number(v) : v;
}

type EventKind = FileEvent['kind'] | 'sqread';

/** The event column, compared as bytes (no string per record); undefined for an unknown event. */
function eventKind(f: TsvRow): EventKind | undefined {
  // the first byte picks the one candidate, then the whole field is compared
  const first = f.bytes[f.starts[2]!];
  const kind = first === 0x66 ? 'fault' : first === 0x72 ? 'read' : first === 0x6f ? 'open' : first === 0x65 ? 'exec' : first === 0x73 ? 'sqread' : undefined;
  return kind !== undefined && fieldEquals(f, 2, kind) ? kind : undefined;
}

export function looksLikeKmodEvents(head: Buffer): boolean {
  return head.subarray(0, EVENTS_MAGIC.length).toString('latin1') === EVENTS_MAGIC;
}

/** A bad row: the scanner adds its file, line and byte offset. */
function bad(what: string): RecordProblem {
  return new RecordProblem(what);
}

function checkHeader(line: Buffer, source: string): void {
  const header = line.toString('utf8').replace(/\r$/, '');
  if (header !== HEADER) {
    throw new FormatError(source, 0, `unexpected header ${JSON.stringify(header.slice(0, 120))} (expected the v1 columns)`);
  }
}

/** The shortest a logged event's line is in practice: sizes the columns for a log of known size. */
const LINE_BYTES = 72;

/**
 * `bytes`: the whole log, or its consecutive chunks (readTrace streams a big file through), or a
 * function that gives them anew each time it is called (the file is read again when a consumer
 * asks for every event: only a digest of them is held). `totalBytes`: the size of the whole log,
 * when chunks are given and it is known.
 *
 * `rowByRow`: without the fast path for good rows (kmod-fast-rows.ts), for the tests that compare both.
 */
export function parseKmodEvents(
  bytes: Buffer | Iterable<Buffer> | (() => Iterable<Buffer>),
  source: string,
  totalBytes?: number,
  options: { rowByRow?: boolean } = {},
): Trace {
  const size = Buffer.isBuffer(bytes) ? bytes.length : (totalBytes ?? 0);
  if (size > PRIME_ABOVE && !primed) prime();
  const again = typeof bytes === 'function' ? bytes : Buffer.isBuffer(bytes) ? () => [bytes] : undefined;
  let digest: EventDigest | undefined;
  let columns: EventColumns | undefined;
  const fast = options.rowByRow !== true;
  const { devices, notes } = scanEvents(typeof bytes === 'function' ? bytes() : bytes, source, fast, (strings, devs) => {
    digest = new EventDigest(strings, devs);
    const add = digest.add.bind(digest);
    if (again !== undefined) return { sink: add, repeat: digest.repeat.bind(digest) };
    // read once only (a stream): the events are kept as columns
    columns = new EventColumns(strings, devs, size / LINE_BYTES);
    const kept = columns;
    return {
      sink: (kind, time, pid, path, comm, offset, length, ino, dev) => {
        kept.push(kind, time, pid, path, comm, offset, length, ino, dev);
        add(kind, time, pid, path, comm, offset, length, ino, dev);
      },
      repeat: undefined,
    };
  });
  const all = (): TraceEvent[] => {
    if (columns !== undefined) return columns.events();
    let reread: EventColumns | undefined;
    scanEvents(again!(), source, fast, (strings, devs) => {
      reread = new EventColumns(strings, devs, size / LINE_BYTES);
      return { sink: reread.push.bind(reread), repeat: undefined };
    });
    if (reread!.count !== digest!.count) throw new InputError(`${source} changed while it was read (${digest!.count} events, then ${reread!.count})`);
    return reread!.events();
  };
  return traceFromDigest(digest!, all, { source, format: 'bootprof-events', devices, notes });
}

/** A log bigger than this is parsed after prime(). */
const PRIME_ABOVE = 4 << 20;
let primed = false;

/**
 * Parse a few rows of every kind once, before the first big log: a boot's log starts with
 * thousands of opens, and V8 compiled the reader (fastRows, the digest) for those alone, then
 * threw the compiled code away at the first read or fault and compiled it again, several times
 * over the first megabytes (about 50 ms of a 1,000,000-event parse; these rows take 3 ms).
 */
function prime(): void {
  primed = true;
  const rows = [HEADER];
  const kinds = ['open', 'read', 'fault', 'exec', 'sqread', 'fault'];
  for (let seq = 0; seq < 60; seq++) {
    const kind = kinds[seq % kinds.length]!;
    const ranged = kind === 'read' || kind === 'fault' || kind === 'sqread';
    const path = kind === 'sqread' || seq % 12 === 11 ? '-' : `/usr/lib/p${seq % 5}`;
    // two devices in turn: the reader's check of a device other than the row before's runs often enough to be compiled too
    rows.push([seq, 1e10 + seq * 1e3, kind, 100 + (seq % 3), `c${seq % 3}`, seq % 6 === 0 ? '-' : seq % 4 === 1 ? '8:1' : '7:0', seq % 6 === 0 ? '-' : 10 + (seq % 5),
      ranged ? 4096 * (seq % 4) : '-', ranged ? 4096 : '-', path].join('\t'));
  }
  // a big log's common rows: the same read again (a repeat: its comm is not looked up), so the
  // next row's path is the one looked up last
  for (let seq = 60; seq < 75; seq++) {
    const file = Math.floor((seq - 60) / 3);
    rows.push([seq, 1e10 + seq * 1e3, 'read', 100, 'c0', '7:0', 10 + file, 0, 4096, `/usr/lib/p${file}`].join('\t'));
  }
  const log = Buffer.from(`${rows.join('\n')}\n`);
  parseKmodEvents(() => [log], 'prime');
}

/** Parse a log, handing each good event to the sink `start` makes (given the tables the ids point into). */
function scanEvents(
  bytes: Buffer | Iterable<Buffer>,
  source: string,
  fast: boolean,
  start: (strings: readonly string[], devs: readonly string[]) => { sink: EventSink; repeat: EventsState['repeat'] },
): { devices: TraceDevice[]; notes: string[] } {
  const strings = new ByteStrings();
  const devs = new ByteStrings();
  const state: EventsState = {
    strings,
    devs,
    goodDevs: new Set<number>(),
    ...start(strings.values, devs.values),
    squashfsDevices: new Map<string, number>(),
    previousSeq: -1,
    missing: 0,
    good: 0,
    records: 0,
  };
  const { goodDevs, sink, squashfsDevices } = state;
  const problems = new RowProblems(source, 'a bootprof events log');

  // called once a row is known good: the module numbers logged events without gaps, so a gap
  // means lines were lost on the way
  const accept = (seq: number | bigint): void => {
    const previousSeq = state.previousSeq;
    if (previousSeq !== -1) {
      state.missing += typeof seq === 'number' && typeof previousSeq === 'number'
        ? seq - previousSeq - 1
        : Number(BigInt(seq) - BigInt(previousSeq) - 1n);
    }
    state.previousSeq = seq;
  };
  // the hot path of a big trace: a byte scanner, not csv-parse (see tsv-scan.ts for the figures);
  // most rows are taken by fastRows, and this visitor reads the rest, one by one, and reports
  scanTsvRecords(bytes, source, COLUMNS, (f) => {
    const seq = u64At(f, 0);
    if (seq === undefined) throw bad(`bad seq ${JSON.stringify(fieldText(f, 0))}`);
    if (seq <= state.previousSeq) throw bad(`seq ${seq} does not follow ${state.previousSeq}`);
    const timeNs = u64NumberAt(f, 1);
    if (timeNs === undefined) throw bad(`bad time_ns ${JSON.stringify(fieldText(f, 1))}`);
    const kind = eventKind(f);
    const pid = fieldCount(f, 3);
    if (pid === undefined) throw bad(`bad pid ${JSON.stringify(fieldText(f, 3))}`);
    let dev = -1;
    if (!fieldIsByte(f, 5, DASH)) {
      dev = devs.id(f.bytes, f.starts[5]!, f.ends[5]!);
      if (!goodDevs.has(dev)) {
        if (!DEV.test(devs.values[dev]!)) throw bad(`bad dev ${JSON.stringify(devs.values[dev])}`);
        goodDevs.add(dev);
      }
    }
    const noIno = fieldIsByte(f, 6, DASH);
    const ino = noIno ? undefined : u64NumberAt(f, 6);
    if (!noIno && ino === undefined) throw bad(`bad ino ${JSON.stringify(fieldText(f, 6))}`);
    const ranged = kind === 'read' || kind === 'fault' || kind === 'sqread';
    const rangeOffset = ranged ? u64NumberAt(f, 7) : undefined;
    const rangeLength = ranged ? u64NumberAt(f, 8) : undefined;
    if (ranged && (rangeOffset === undefined || rangeLength === undefined)) {
      throw bad(`${kind} event needs a decimal offset and length, got ${JSON.stringify(fieldText(f, 7))} ${JSON.stringify(fieldText(f, 8))}`);
    }

    if (kind === 'sqread') {
      if (dev === -1) throw bad('sqread event without a device');
      accept(seq);
      const name = devs.values[dev]!;
      squashfsDevices.set(name, (squashfsDevices.get(name) ?? 0) + 1);
      // length 0 marks a metadata block: the read is at least its 2-byte header
      state.good++;
      sink(BLOCK_KIND, timeNs, NaN, -1, -1, rangeOffset!, rangeLength!, NaN, dev);
      return;
    }
    if (kind === undefined) throw bad(`unknown event ${JSON.stringify(fieldText(f, 2))}`);
    let path = fieldIsByte(f, 9, DASH) ? -1 : strings.id(f.bytes, f.starts[9]!, f.ends[9]!);
    if (path !== -1 && strings.values[path] === '') path = -1; // as '-'
    if (path === -1 && ino === undefined) throw bad(`${kind} event with neither a path nor an inode`);
    const comm = strings.id(f.bytes, f.starts[4]!, f.ends[4]!);
    accept(seq);
    state.good++;
    sink(KIND_CODE[kind], timeNs, pid, path, comm, ranged ? rangeOffset! : NaN, ranged ? rangeLength! : NaN, ino ?? NaN, dev);
  }, {
    onHeader: (line) => checkHeader(line, source),
    ...(fast ? { fast: { records: () => state.records, take: (chunk: Buffer, pos: number, end: number) => fastRows(state, chunk, pos, end) } } : {}),
    onProblem: (problem) => problems.add(problem, state.good),
  });

  const devices: TraceDevice[] = [...squashfsDevices].map(([id, n]) => ({
    id,
    kind: 'squashfs',
    description: `${id} (squashfs block reads logged by the module, ${n} reads; offsets inside the squashfs)`,
  }));
  const notes = state.missing > 0 ? [`${state.missing} events missing (gaps in seq): the log is not complete`] : [];
  notes.push(...problems.notes());
  return { devices, notes };
}
