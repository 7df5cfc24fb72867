import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { FormatError, InputError, LimitError, describeSystemError } from '../errors.js';
import { eventCount } from './event-columns.js';
import { looksLikeKmodEvents, parseKmodEvents } from './kmod-events.js';
import { mergeBlktraceCpus } from './merge-cpus.js';
import type { Trace } from './types.js';
import { isGzip } from '../util/gzip.js';

/** Traces are read whole: even a million-event capture is tens of MB. */
export const MAX_TRACE_BYTES = 2 * 1024 * 1024 * 1024 - 1;

/** The path that means standard input, wherever a trace is accepted. */
export const STDIN_PATH = '-';
/** How messages and reports name a trace read from standard input. */
export const STDIN_NAME = 'stdin';

/** `-` is standard input (read once: a second `-` gets the same bytes); anything else is a file. */
export async function readTrace(path: string, stdin: StdinReader = stdinReader()): Promise<Trace> {
  if (path === STDIN_PATH) return (await wholeTraceParser())(await stdin(), STDIN_NAME);
  const streamed = readModuleLogInChunks(path);
  if (streamed !== undefined) return streamed;
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new InputError(describeSystemError(path, err), { cause: err });
  }
  return (await wholeTraceParser())(bytes, path);
}

/**
 * parse-whole.ts's parseTrace: the parsers of the other formats (and zlib) are loaded only when a
 * trace is read whole, not for the module log a big boot gives (start-up, issue 12).
 */
async function wholeTraceParser(): Promise<(raw: Buffer, source: string) => Trace> {
  return (await import('./parse-whole.js')).parseTrace;
}

/**
 * Read several traces in the order given (`-` is standard input); the per-CPU files of one
 * blktrace run become one trace.
 */
export async function readTraces(paths: readonly string[], stdin: StdinReader = stdinReader()): Promise<Trace[]> {
  const traces: Trace[] = [];
  for (const path of paths) traces.push(await readTrace(path, stdin));
  return mergeBlktraceCpus(traces);
}

/** Gives the bytes of a stream, read to its end on the first call and kept for later calls. */
export type StdinReader = () => Promise<Buffer>;

let processStdin: StdinReader | undefined;

/** Standard input of this process, read at most once however many `-` arguments name it. */
export function stdinReader(): StdinReader {
  if (processStdin === undefined) {
    let read: StdinReader | undefined; // process.stdin is only touched when a `-` is read
    processStdin = async () => {
      // A trace is never typed in: waiting on a terminal would only look like a hang.
      if (process.stdin.isTTY) throw new InputError(`${STDIN_NAME} is a terminal: pipe a trace into "-", or name its file`);
      return (read ??= streamReader(process.stdin, STDIN_NAME))();
    };
  }
  return processStdin;
}

/** A StdinReader over any readable stream; more than MAX_TRACE_BYTES is a LimitError naming `name`. */
export function streamReader(stream: NodeJS.ReadableStream, name: string): StdinReader {
  let bytes: Promise<Buffer> | undefined;
  return () =>
    (bytes ??= (async () => {
      const chunks: Buffer[] = [];
      let total = 0;
      try {
        for await (const chunk of stream) {
          const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          total += buf.length;
          if (total > MAX_TRACE_BYTES) throw new LimitError(name, MAX_TRACE_BYTES, 'a trace is read whole: more than 2 GiB');
          chunks.push(buf);
        }
      } catch (err) {
        if (err instanceof LimitError) throw err;
        throw new InputError(describeSystemError(name, err), { cause: err });
      }
      return Buffer.concat(chunks, total);
    })());
}

/** A module log is read this many bytes at a time. */
const CHUNK_BYTES = 4 * 1024 * 1024;

/**
 * The module's event log, the biggest trace there is, parsed as it is read: the file is never
 * held whole (peak memory is one chunk plus what the events keep). undefined: not a plain
 * module log (compressed, empty, another format, unreadable): read it whole instead.
 */
function readModuleLogInChunks(path: string): Trace | undefined {
  let fd: number;
  try {
    // a regular file only: opening a FIFO here would take (or block on) its only reader
    if (!statSync(path).isFile()) return undefined;
    fd = openSync(path, 'r');
  } catch {
    return undefined; // the whole-file read reports it
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) return undefined;
    const head = Buffer.alloc(65536);
    const headLength = readSync(fd, head, 0, head.length, 0);
    const first = head.subarray(0, headLength);
    if (headLength === 0 || isGzip(first) || !looksLikeKmodEvents(first)) return undefined;

    // the parse keeps a digest of the events: the file is read again (through a descriptor of its
    // own) if a consumer asks for every event
    let firstRead = true;
    const chunks = function* (): Generator<Buffer> {
      const again = !firstRead;
      firstRead = false;
      let from = fd;
      if (again) {
        try {
          from = openSync(path, 'r');
        } catch (err) {
          throw new InputError(describeSystemError(path, err), { cause: err });
        }
      }
      try {
        let position = 0;
        // one buffer, filled again for each chunk: the scanner is done with a chunk when it asks for the next
        const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
        for (;;) {
          let n: number;
          try {
            n = readSync(from, chunk, 0, CHUNK_BYTES, position);
          } catch (err) {
            throw new InputError(describeSystemError(path, err), { cause: err });
          }
          if (n === 0) return;
          position += n;
          yield chunk.subarray(0, n);
        }
      } finally {
        if (again) closeSync(from);
      }
    };
    const trace = parseKmodEvents(chunks, path, stat.size);
    if (eventCount(trace) === 0) throw new FormatError(path, 0, 'no events in this bootprof-events trace');
    return trace;
  } finally {
    closeSync(fd);
  }
}
