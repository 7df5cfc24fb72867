import { createRequire } from 'node:module';
import type { parse as csvParse } from 'csv-parse/sync';
import { FormatError } from '../errors.js';

// loaded when a profile TSV is read, not at start-up (the module log has its own scanner)
let parse: typeof csvParse | undefined;
const csv = (): typeof csvParse => (parse ??= (createRequire(import.meta.url)('csv-parse/sync') as { parse: typeof csvParse }).parse);

/** Thrown by a record visitor: forEachTsvRecord turns it into a FormatError naming the line's byte offset. */
export class RecordProblem extends Error {}

/**
 * csv-parse works on chunks of this size (cut at a newline): memory stays bounded for big traces,
 * and a bad line is reported after parsing at most one chunk. Small on purpose: with
 * relax_column_count csv-parse still builds an Error (stack trace and all) for every record whose
 * column count differs from the chunk's first, ~15 us each; with 8 MiB chunks a 1 MB trace of
 * short bad lines took 1.5 s of CPU before its first bad line was reported (fuzz inputs
 * trace-parse-1a0c896e70650e03, trace-parse-5a490c5ddf214e30). 64 KiB is also the line limit
 * of the other text parsers (MAX_LINE_BYTES).
 */
const CHUNK_BYTES = 64 * 1024;

/**
 * Tab-separated records after a one-line header, through csv-parse (no quoting: fields escape
 * tabs and newlines with backslashes instead). Checks the column count and that the file ends
 * with a newline (a capture cut short ends mid-line). `visit` throws RecordProblem for a bad
 * record; its byte offset and line number are worked out only then, so the common path
 * allocates nothing per record beyond csv-parse's own arrays.
 */
export function forEachTsvRecord(
  bytes: Buffer,
  source: string,
  columns: number,
  visit: (fields: string[]) => void,
): void {
  const headerEnd = bytes.indexOf(0x0a);
  if (headerEnd === -1) throw new FormatError(source, 0, 'header line is not terminated: the file is cut short');
  const nul = bytes.indexOf(0);
  if (nul !== -1) throw new FormatError(source, nul, 'NUL byte in a text trace');
  let chunkStart = headerEnd + 1;
  let linesBefore = 1;
  while (chunkStart < bytes.length) {
    let chunkEnd = Math.min(bytes.length, chunkStart + CHUNK_BYTES);
    if (chunkEnd < bytes.length) {
      const newline = bytes.lastIndexOf(0x0a, chunkEnd - 1);
      if (newline < chunkStart) {
        throw new FormatError(source, chunkStart, `line longer than ${CHUNK_BYTES} bytes: this is not a trace`);
      }
      chunkEnd = newline + 1;
    }
    const chunk = bytes.subarray(chunkStart, chunkEnd);
    const records = csv()(chunk, {
      delimiter: '\t',
      quote: false,
      record_delimiter: '\n',
      relax_column_count: true,
      skip_empty_lines: false,
    }) as string[][];
    const problem = (index: number, message: string): FormatError => {
      let offset = chunkStart;
      for (let i = 0; i < index; i++) offset = bytes.indexOf(0x0a, offset) + 1;
      return new FormatError(source, offset, `line ${linesBefore + index + 1}: ${message}`);
    };
    for (let i = 0; i < records.length; i++) {
      const fields = records[i]!;
      if (fields.length !== columns) {
        throw problem(i, fields.length === 1 && fields[0] === '' ? 'empty line' : `${fields.length} fields, expected ${columns}`);
      }
      if (i === records.length - 1 && chunkEnd === bytes.length && bytes[chunkEnd - 1] !== 0x0a) {
        throw problem(i, 'cut short (no newline at the end of the file)');
      }
      try {
        visit(fields);
      } catch (err) {
        if (err instanceof RecordProblem) throw problem(i, err.message);
        throw err;
      }
    }
    linesBefore += records.length;
    chunkStart = chunkEnd;
  }
}
