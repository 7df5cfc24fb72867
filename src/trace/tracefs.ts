import { FormatError } from '../errors.js';
import { RowProblems } from './row-problems.js';
import { excerpt, firstBinaryByte, forEachLine, headLines, parseCount } from './text-lines.js';
import type { FileEvent, Trace } from './types.js';

/**
 * The kernel's tracefs text output (docs/formats.md §8): the `trace` file (a `# tracer:` header,
 * then events) or `trace_pipe` (events only), from any number of CPUs. One event per line:
 *
 *   <comm>-<pid> [(<tgid>)] [<cpu>] [<flags>] <sec>.<usec>: <event>: <fields>
 *
 * Three events become FileEvents:
 * - `mm_filemap_add_to_page_cache: dev M:m ino HEX pfn=0x.. ofs=BYTES [order=N]`: a page-cache fill
 *   (fault, read or readahead alike), named by inode only: a `fault` event the mapper resolves
 *   through the image (src/map/inodes.ts), `4096 << order` bytes at `ofs`;
 * - `sched_process_exec: filename=PATH pid=N old_pid=N`: an exec;
 * - `bootprof_open: (do_filp_open+0x0/0x..) path="PATH"`: the kprobe integrations/tracefs arms
 *   (any kprobe event on do_filp_open with a `path` string argument is read the same way).
 * `CPU:N [LOST n EVENTS]` markers are counted as loss (notes). Other events are skipped.
 * The kernel prints paths raw: a name with a newline spans lines, which we join back.
 */

const PAGE_SIZE = 4096;
/** comm-pid (comm is at most 15 bytes: bounded, so a long line cannot backtrack for long), optional (tgid), [cpu], optional irq flags, timestamp, event name. */
const EVENT_LINE = /^\s*(.{0,64})-(\d{1,10})\s+(?:\(\s*[\d-]+\)\s+)?\[(\d{1,5})\]\s+(?:[^\s\d][^\s]{2,5}\s+)?(\d+)(?:\.(\d+))?:\s+([A-Za-z_][\w]*):\s?(.*)$/;
const LOST = /^CPU:(\d+) \[LOST (\d+) EVENTS\]$/;
const BUFFER_STARTED = /^##### CPU \d+ buffer started ####$/;
const PAGE_CACHE = 'mm_filemap_add_to_page_cache';
const EXEC = 'sched_process_exec';
const OPEN = 'bootprof_open';
const OPEN_PROBE = '(do_filp_open+';
const PAGE_CACHE_FIELDS = /^dev (\d{1,4}):(\d{1,7}) ino ([0-9a-f]{1,16}) (.*)$/;
const EXEC_FIELDS = /^filename=([^]*) pid=\d+ old_pid=\d+$/;
const OPEN_FIELDS = /^\([\w.]+\+0x[0-9a-f]+\/0x[0-9a-f]+\) path="([^]*)"$/;
/** A path split by newlines spans at most this many lines before we call the line malformed. */
const MAX_CONTINUATION_LINES = 8;

export function looksLikeTracefs(head: Buffer): boolean {
  const lines = headLines(head, 12);
  if (lines[0] !== undefined && /^# tracer: \w+$/.test(lines[0])) return true;
  // trace_pipe: no header; the first event lines show the shape
  const events = lines.filter((l) => !l.startsWith('#') && !LOST.test(l));
  return events.length > 0 && events.slice(0, 3).every((l) => EVENT_LINE.test(l));
}

interface Pending {
  name: string;
  fields: string;
  offset: number;
  lineNumber: number;
  pid: number;
  comm: string;
  timeNs: number;
  lines: number;
}

export function parseTracefs(bytes: Buffer, source: string): Trace {
  const events: FileEvent[] = [];
  const lostByCpu = new Map<number, number>();
  const skipped = new Map<string, number>();
  let sawEvent = false;
  let pending: Pending | undefined;
  let unterminated = false;
  /** Lines since the last skipped event: a line that is no event right after one continues it. */
  let afterSkipped = MAX_CONTINUATION_LINES;

  // a bad line is named in the notes and left out (issue 11); only a file that is mostly bad is refused
  const problems = new RowProblems(source, 'a tracefs log');
  let goodLines = 0;
  const skip = (offset: number, lineNumber: number, what: string): true => {
    problems.add(new FormatError(source, offset, `line ${lineNumber}: ${what}`), goodLines);
    return true;
  };

  /** Turns a complete event into a FileEvent; false when its fields are not complete yet (a path with a newline). */
  const emit = (p: Pending, final: boolean): boolean => {
    if (p.name === PAGE_CACHE) {
      const m = PAGE_CACHE_FIELDS.exec(p.fields);
      const named = m === null ? undefined : pageCacheFields(m[4]!);
      const ino = m === null ? undefined : Number.parseInt(m[3]!, 16);
      if (m === null || named === undefined || ino === undefined || !Number.isSafeInteger(ino)) {
        return skip(
          p.offset,
          p.lineNumber,
          `${PAGE_CACHE} fields are not "dev M:m ino HEX ... ofs=BYTES [order=N]" ` +
            `(a kernel with another field layout?): ${excerpt(p.fields)}`,
        );
      }
      events.push({
        kind: 'fault',
        seq: events.length,
        timeNs: p.timeNs,
        path: '',
        line: p.lineNumber,
        pid: p.pid,
        comm: p.comm,
        dev: `${m[1]}:${m[2]}`,
        ino,
        offset: named.offset,
        length: PAGE_SIZE * 2 ** named.order,
      });
      return true;
    }
    const m = (p.name === EXEC ? EXEC_FIELDS : OPEN_FIELDS).exec(p.fields);
    if (m === null) {
      if (!final && p.lines < MAX_CONTINUATION_LINES) return false;
      const expected = p.name === EXEC ? 'filename=PATH pid=N old_pid=N' : '(do_filp_open+0x0/0x..) path="PATH"';
      return skip(p.offset, p.lineNumber, `${p.name} fields are not "${expected}": ${excerpt(p.fields)}`);
    }
    events.push({ kind: p.name === EXEC ? 'exec' : 'open', seq: events.length, timeNs: p.timeNs, path: m[1]!, line: p.lineNumber, pid: p.pid, comm: p.comm });
    return true;
  };

  forEachLine(bytes, source, (text, offset, lineNumber, terminated) => {
    if (!terminated) unterminated = true;
    if (pending !== undefined) {
      // the previous event's path held a newline: this line continues it
      pending.fields += `\n${text}`;
      pending.lines++;
      if (emit(pending, false)) pending = undefined;
      if (!terminated && pending !== undefined) {
        skip(pending.offset, pending.lineNumber, 'the log ends inside an event (cut short)');
        pending = undefined;
      }
      return;
    }
    if (text.length === 0 || text.charCodeAt(0) === 0x23 /* # */) {
      if (sawEvent && text.length > 0 && !BUFFER_STARTED.test(text)) {
        skip(offset, lineNumber, `a header line after the events: two logs run together? ${excerpt(text)}`);
      }
      return;
    }
    const lost = text.startsWith('CPU:') ? LOST.exec(text) : null;
    if (lost !== null) {
      const cpu = Number(lost[1]);
      lostByCpu.set(cpu, (lostByCpu.get(cpu) ?? 0) + Number(lost[2]));
      return;
    }
    const m = EVENT_LINE.exec(text);
    if (m === null && afterSkipped < MAX_CONTINUATION_LINES && firstBinaryByte(text) === -1) {
      afterSkipped++;
      return;
    }
    if (m === null) {
      const bad = firstBinaryByte(text);
      if (bad !== -1) skip(offset + bad, lineNumber, 'binary data in a tracefs log');
      else skip(offset, lineNumber, `not a tracefs event line: ${excerpt(text)}`);
      return;
    }
    sawEvent = true;
    afterSkipped = MAX_CONTINUATION_LINES;
    const name = m[6]!;
    const isOpen = name === OPEN || m[7]!.startsWith(OPEN_PROBE);
    if (name !== PAGE_CACHE && name !== EXEC && !isOpen) {
      skipped.set(name, (skipped.get(name) ?? 0) + 1);
      goodLines++;
      // its fields may hold a raw string with a newline: the next lines may be the rest of it
      afterSkipped = 0;
      return;
    }
    if (!terminated) {
      skip(offset, lineNumber, 'cut short (no newline at the end of the log): a truncated log?');
      return;
    }
    const pid = parseCount(m[2]!);
    const sec = parseCount(m[4]!);
    const frac = m[5] ?? '';
    if (pid === undefined || sec === undefined || frac.length > 9) {
      skip(offset, lineNumber, `number out of range: ${excerpt(text)}`);
      return;
    }
    goodLines++;
    const timeNs = sec * 1e9 + (frac === '' ? 0 : Number(frac.padEnd(9, '0')));
    const event: Pending = { name: isOpen ? OPEN : name, fields: m[7]!, offset, lineNumber, pid, comm: m[1]!.trim(), timeNs, lines: 1 };
    if (!emit(event, false)) pending = event;
  });
  if (pending !== undefined) emit(pending, true);
  // `trace` and `trace_pipe` merge the CPUs by time; per-CPU files given one after another do not
  let ordered = true;
  for (let i = 1; i < events.length && ordered; i++) if (events[i]!.timeNs! < events[i - 1]!.timeNs!) ordered = false;
  if (!ordered) {
    events.sort((a, b) => a.timeNs! - b.timeNs! || a.seq - b.seq);
    events.forEach((e, i) => (e.seq = i));
  }

  const notes: string[] = problems.notes();
  const lost = [...lostByCpu.values()].reduce((a, b) => a + b, 0);
  if (lost > 0) {
    const where = [...lostByCpu].map(([cpu, n]) => `CPU ${cpu}: ${n}`).join(', ');
    notes.push(`${lost} events lost in the trace buffer (${where}): the log is not complete; give a larger buffer_size_kb`);
  }
  if (unterminated && events.length > 0 && problems.errors.length === 0) {
    // a cut event line is named above; a cut line of an event we skip is only seen here
    notes.push('the log does not end with a newline: it may be cut short');
  }
  const pageCache = events.filter((e) => e.kind === 'fault').length;
  if (events.length > 0 && pageCache === 0) {
    notes.push(`no ${PAGE_CACHE} events: only opens and execs, no byte ranges`);
  }
  return { source, format: 'tracefs', events, notes };
}

/** `pfn=0x.. ofs=BYTES [order=N]`, in any order, other key=value fields ignored. */
function pageCacheFields(rest: string): { offset: number; order: number } | undefined {
  let offset: number | undefined;
  let order = 0;
  for (const field of rest.split(' ')) {
    const eq = field.indexOf('=');
    if (eq <= 0) return undefined;
    const key = field.slice(0, eq);
    const value = field.slice(eq + 1);
    if (key === 'ofs') offset = parseCount(value);
    else if (key === 'order') {
      const n = parseCount(value);
      if (n === undefined || n > 20) return undefined;
      order = n;
    }
  }
  if (offset === undefined || offset % PAGE_SIZE !== 0) return undefined;
  return { offset, order };
}
