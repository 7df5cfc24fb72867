import { FormatError } from '../errors.js';
import { parseCount } from './text-lines.js';
import { unescapeField } from './tsv-escape.js';
import { forEachTsvRecord, RecordProblem } from './tsv-records.js';
import type { FileEvent, Trace, TraceDevice, TraceEvent } from './types.js';

/**
 * The module's debugfs `bootprof/events` file (docs/formats.md §5): a header line, then one event per
 * line in 10 tab-separated columns (the header has the magic plus the 10 column names):
 *   seq time_ns event pid comm dev ino offset length path
 * open/exec/read/fault become FileEvents (fault and read may carry only dev/ino, which the mapper
 * resolves through the image); sqread is squashfs's own block read, at an offset inside the squashfs.
 */

export const EVENTS_MAGIC = '#bootprof-events v1';
const HEADER = `${EVENTS_MAGIC}\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath`;
const COLUMNS = 10;
const DEV = /^\d{1,4}:\d{1,7}$/;

export function looksLikeKmodEvents(head: Buffer): boolean {
  return head.subarray(0, EVENTS_MAGIC.length).toString('latin1') === EVENTS_MAGIC;
}

export function parseKmodEvents(bytes: Buffer, source: string): Trace {
  const headerEnd = bytes.indexOf(0x0a);
  const header = bytes.toString('utf8', 0, headerEnd === -1 ? Math.min(bytes.length, 200) : headerEnd).replace(/\r$/, '');
  if (header !== HEADER) {
    throw new FormatError(source, 0, `unexpected header ${JSON.stringify(header.slice(0, 120))} (expected the v1 columns)`);
  }
  const events: TraceEvent[] = [];
  const squashfsDevices = new Map<string, number>();
  let previousSeq = -1;
  let missing = 0;

  forEachTsvRecord(bytes, source, COLUMNS, (f) => {
    const bad = (what: string): RecordProblem => new RecordProblem(what);
    const seq = parseCount(f[0]!);
    if (seq === undefined) throw bad(`bad seq ${JSON.stringify(f[0])}`);
    if (seq <= previousSeq) throw bad(`seq ${seq} does not follow ${previousSeq}`);
    // the module numbers logged events without gaps: a gap means lines were lost on the way
    if (previousSeq >= 0) missing += seq - previousSeq - 1;
    previousSeq = seq;
    const timeNs = parseCount(f[1]!);
    if (timeNs === undefined) throw bad(`bad time_ns ${JSON.stringify(f[1])}`);
    const kind = f[2]!;
    const pid = parseCount(f[3]!);
    if (pid === undefined) throw bad(`bad pid ${JSON.stringify(f[3])}`);
    const dev = f[5] === '-' ? undefined : f[5]!;
    if (dev !== undefined && !DEV.test(dev)) throw bad(`bad dev ${JSON.stringify(dev)}`);
    const ino = f[6] === '-' ? undefined : parseCount(f[6]!);
    if (f[6] !== '-' && ino === undefined) throw bad(`bad ino ${JSON.stringify(f[6])}`);
    const ranged = kind === 'read' || kind === 'fault' || kind === 'sqread';
    const rangeOffset = ranged ? parseCount(f[7]!) : undefined;
    const rangeLength = ranged ? parseCount(f[8]!) : undefined;
    if (ranged && (rangeOffset === undefined || rangeLength === undefined)) {
      throw bad(`${kind} event needs a decimal offset and length, got ${JSON.stringify(f[7])} ${JSON.stringify(f[8])}`);
    }
    const path = f[9] === '-' ? '' : unescapeField(f[9]!);

    if (kind === 'sqread') {
      if (dev === undefined) throw bad('sqread event without a device');
      squashfsDevices.set(dev, (squashfsDevices.get(dev) ?? 0) + 1);
      events.push({
        kind: 'block',
        seq: events.length,
        timeNs,
        device: dev,
        offset: rangeOffset!,
        // length 0 marks a metadata block: the read is at least its 2-byte header
        length: rangeLength!,
        squashfsOffset: true,
      });
      return;
    }
    if (kind !== 'open' && kind !== 'exec' && kind !== 'read' && kind !== 'fault') {
      throw bad(`unknown event ${JSON.stringify(kind)}`);
    }
    if (path === '' && ino === undefined) throw bad(`${kind} event with neither a path nor an inode`);
    const event: FileEvent = { kind, seq: events.length, timeNs, path, pid, comm: unescapeField(f[4]!) };
    if (ranged) {
      event.offset = rangeOffset!;
      event.length = rangeLength!;
    }
    if (ino !== undefined) event.ino = ino;
    if (dev !== undefined) event.dev = dev;
    events.push(event);
  });

  const devices: TraceDevice[] = [...squashfsDevices].map(([id, n]) => ({
    id,
    kind: 'squashfs',
    description: `${id} (squashfs block reads logged by the module, ${n} reads; offsets inside the squashfs)`,
  }));
  const notes = missing > 0 ? [`${missing} events missing (gaps in seq): the log is not complete`] : [];
  return { source, format: 'bootprof-events', events, devices, notes };
}
