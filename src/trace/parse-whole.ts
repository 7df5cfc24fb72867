import { gunzipSync } from 'node:zlib';
import { FormatError } from '../errors.js';
import { looksLikeBootlog, parseBootlog } from './bootlog.js';
import { looksLikeBlkparse, parseBlkparse } from './blkparse.js';
import { looksLikeBlktrace, parseBlktrace } from './blktrace.js';
import { eventCount } from './event-columns.js';
import { looksLikeKmodEvents, parseKmodEvents } from './kmod-events.js';
import { looksLikeProfile, looksLikeProfileJson, parseProfile, parseProfileJson } from './map-output-format.js';
import { looksLikeQemuLog, parseQemuLog } from './qemu.js';
import { MAX_TRACE_BYTES } from './read.js';
import { looksLikeTracefs, parseTracefs } from './tracefs.js';
import type { Trace, TraceFormat } from './types.js';
import { isGzip } from '../util/gzip.js';

/*
 * A trace held whole in memory (standard input, a compressed capture, every format but a plain
 * module log, which read.ts streams): its format recognised from its first bytes, then parsed.
 */

/** A capture format: recognised from the first bytes of its content, never from its name. */
export interface TraceParser {
  format: TraceFormat;
  /** Called with up to the first 64 KiB. */
  detect(head: Buffer): boolean;
  parse(bytes: Buffer, source: string): Trace;
}

/** Most specific formats first: bootlog.list (lines starting with '/') is the fallback. */
export const traceParsers: TraceParser[] = [
  { format: 'bootprof-events', detect: looksLikeKmodEvents, parse: parseKmodEvents },
  { format: 'bootprof-profile', detect: looksLikeProfile, parse: parseProfile },
  { format: 'bootprof-profile', detect: looksLikeProfileJson, parse: parseProfileJson },
  { format: 'blktrace', detect: looksLikeBlktrace, parse: parseBlktrace },
  { format: 'qemu', detect: looksLikeQemuLog, parse: parseQemuLog },
  { format: 'tracefs', detect: looksLikeTracefs, parse: parseTracefs },
  { format: 'blkparse', detect: looksLikeBlkparse, parse: parseBlkparse },
  { format: 'bootlog', detect: looksLikeBootlog, parse: parseBootlog },
];

export function parseTrace(raw: Buffer, source: string): Trace {
  if (raw.length === 0) throw new FormatError(source, 0, 'empty file: no trace events');
  // captures travel compressed (the bundled profiles do): a gzip file is read as what it holds
  const bytes = isGzip(raw) ? gunzipTrace(raw, source) : raw;
  const head = bytes.subarray(0, 65536);
  const parser = traceParsers.find((p) => p.detect(head));
  if (parser === undefined) {
    throw new FormatError(
      source,
      0,
      `unrecognised trace format (expected one of: ${traceParsers.map((p) => p.format).join(', ')})`,
    );
  }
  const trace = parser.parse(bytes, source);
  if (eventCount(trace) === 0) throw new FormatError(source, 0, `no events in this ${parser.format} trace`);
  return trace;
}

function gunzipTrace(bytes: Buffer, source: string): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_TRACE_BYTES });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ERR_BUFFER_TOO_LARGE' ? 'unpacks to more than 2 GiB' : `is not valid gzip (${(err as Error).message})`;
    throw new FormatError(source, 0, `this compressed trace ${why}`);
  }
}
