import { FormatError } from '../errors.js';
import { RecordProblem } from './tsv-records.js';
import { countAt, type ByteStrings } from './byte-fields.js';

/**
 * A byte scanner for the module's event log, the hot path of every big trace: it finds tabs and
 * newlines in the Buffer itself and hands the visitor byte ranges, so a record costs no strings
 * unless the visitor asks for one (numbers are read from the bytes; repeated paths come from
 * a ByteStrings table). Measured on a million module events (scripts/bench-parse.mjs): about
 * 15x faster than splitting the same chunks with csv-parse, which decodes every field to a
 * string and builds an array per record. csv-parse still reads the profile TSV (tsv-records.ts).
 *
 * Same checks as forEachTsvRecord: a one-line header, exactly `columns` fields per line, no NUL,
 * no line over 64 KiB, and a newline at the end of the file. A bad record names its file,
 * line and byte offset; with onProblem it is skipped (a NUL or a run of binary garbage is one
 * bad record, never the end of the scan).
 */

export const MAX_RECORD_BYTES = 64 * 1024;

/** One record: field i is bytes[starts[i], ends[i]). Valid only during the visit. `offset` is in the file. */
export interface TsvRow {
  bytes: Buffer;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  /** 1-based line number and byte offset of the record's first byte. */
  line: number;
  offset: number;
}

export interface ScanOptions {
  /**
   * Called with the error of a bad record (RecordProblem from the visitor, a wrong field count, an
   * empty line); the scan then skips that record and goes on. Without it the first one is thrown.
   */
  onProblem?: (error: FormatError) => void;
  /** Called with the header line (without its newline; its first 200 bytes when it has none) before any record. */
  onHeader?: (header: Buffer) => void;
  /**
   * A faster reader of good records, tried at each line before the visitor: `take` visits the
   * records from bytes[pos] (a line's start) that it can vouch for, and returns the index of the
   * first one it leaves to the scan (or `end`); `records()` counts all it took so far. It must take
   * only whole, newline-ended lines of exactly `columns` fields without a NUL, no longer than
   * MAX_RECORD_BYTES, that the visitor would accept: every other line (and every report) is the scan's.
   */
  fast?: { take: (bytes: Buffer, pos: number, end: number) => number; records: () => number };
}

/**
 * Visit the records after the header line. `input` is the whole file, or its consecutive chunks
 * (a file read piece by piece: only one chunk and one partial line are held at a time). A chunk
 * is not used once the next one is asked for, so the reader may fill the same buffer each time.
 */
export function scanTsvRecords(
  input: Buffer | Iterable<Buffer>,
  source: string,
  columns: number,
  visit: (row: TsvRow) => void,
  options: ScanOptions = {},
): void {
  const chunks = Buffer.isBuffer(input) ? [input] : input;
  const scan = new Scan(source, columns, visit, options);
  let carry = Buffer.alloc(0); // the start of a line cut at the end of the previous chunk (a copy)
  let base = 0; // file offset of carry's (or the chunk's) first byte
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    let rest = chunk;
    if (carry.length > 0) {
      // only the cut line is joined to the start of the chunk, not the whole chunk to the carry
      const newline = chunk.indexOf(0x0a);
      const head = Buffer.concat([carry, newline === -1 ? chunk : chunk.subarray(0, newline + 1)]);
      const used = scan.window(head, base, false);
      base += used;
      if (newline === -1 || used < head.length) {
        carry = Buffer.from(head.subarray(used));
        continue;
      }
      rest = chunk.subarray(newline + 1);
    }
    const used = scan.window(rest, base, false);
    base += used;
    carry = Buffer.from(rest.subarray(used));
  }
  if (carry.length > 0) scan.window(carry, base, true);
  else if (!scan.headerSeen) scan.noHeader(Buffer.alloc(0));
  scan.finish();
}

class Scan {
  headerSeen = false;
  private line = 1;
  /** A line past MAX_RECORD_BYTES whose end is in a later chunk: skipped up to its newline. */
  private longLine: { offset: number; line: number } | undefined;
  private readonly row: TsvRow;
  constructor(
    private readonly source: string,
    private readonly columns: number,
    private readonly visit: (row: TsvRow) => void,
    private readonly options: ScanOptions,
  ) {
    this.row = { bytes: Buffer.alloc(0), starts: new Int32Array(columns), ends: new Int32Array(columns), line: 1, offset: 0 };
  }

  noHeader(bytes: Buffer): never {
    // an unterminated first line is shown by its start
    this.options.onHeader?.(bytes.subarray(0, 200));
    throw new FormatError(this.source, 0, 'header line is not terminated: the file is cut short');
  }

  /** The input ended inside a long line (nothing after it was left to scan). */
  finish(): void {
    if (this.longLine === undefined) return;
    const { offset, line } = this.longLine;
    this.longLine = undefined;
    this.report(offset, line, `line longer than ${MAX_RECORD_BYTES} bytes: not a record`);
  }

  private report(offset: number, line: number, message: string): void {
    const error = new FormatError(this.source, offset, `line ${line}: ${message}`);
    if (this.options.onProblem === undefined) throw error;
    this.options.onProblem(error);
  }

  /**
   * Scan the whole lines of `bytes` (at file offset `base`); `last`: no more input follows, so a
   * final line without a newline is a record cut short. Returns how many bytes were consumed.
   */
  window(bytes: Buffer, base: number, last: boolean): number {
    const { columns, row } = this;
    const { starts, ends } = row;
    const length = bytes.length;
    let pos = 0;
    if (!this.headerSeen) {
      const headerEnd = bytes.indexOf(0x0a);
      if (headerEnd === -1) {
        if (last || length > MAX_RECORD_BYTES) this.noHeader(bytes);
        return 0;
      }
      this.options.onHeader?.(bytes.subarray(0, headerEnd));
      this.headerSeen = true;
      pos = headerEnd + 1;
    }
    if (this.longLine !== undefined) {
      const newline = bytes.indexOf(0x0a, pos);
      if (newline === -1 && !last) return length; // still inside it: nothing of it is kept
      this.line = this.longLine.line;
      this.finish();
      if (newline === -1) return length;
      pos = newline + 1;
    }
    // NUL is never valid in a text trace; memchr over the window costs far less than a check per byte
    let nul = bytes.indexOf(0, pos);
    row.bytes = bytes;
    const fast = this.options.fast;
    while (pos < length) {
      if (fast !== undefined) {
        // it takes no line with a NUL in it, so `nul` stays at or after pos
        const before = fast.records();
        pos = fast.take(bytes, pos, length);
        this.line += fast.records() - before;
        if (pos >= length) break;
      }
      const lineStart = pos;
      let field = 0;
      let fieldStart = pos;
      let tooMany = false;
      // one pass over the line's bytes: tabs split fields, a newline ends the record
      for (; pos < length; pos++) {
        const c = bytes[pos]!;
        if (c > 0x0a) continue; // most bytes: one comparison
        if (c === 0x0a) break;
        if (c === 0x09) {
          if (field < columns) {
            starts[field] = fieldStart;
            ends[field] = pos;
          } else tooMany = true;
          field++;
          fieldStart = pos + 1;
        }
      }
      const lineEnd = pos;
      if (lineEnd - lineStart > MAX_RECORD_BYTES) {
        // binary garbage (a crash leaves runs of zeros in a log file): one bad record, however long
        if (lineEnd === length && !last) {
          this.longLine = { offset: base + lineStart, line: this.line + 1 };
          return length;
        }
        const line = ++this.line;
        pos = lineEnd + 1;
        if (nul !== -1 && nul < pos) nul = bytes.indexOf(0, pos);
        this.report(base + lineStart, line, `line longer than ${MAX_RECORD_BYTES} bytes: not a record`);
        continue;
      }
      if (lineEnd === length && !last) return lineStart; // the rest of this line is in the next chunk
      const line = ++this.line;
      if (field < columns) {
        starts[field] = fieldStart;
        ends[field] = lineEnd;
      }
      field++;
      pos = lineEnd + 1; // past the newline (or past the end)
      if (nul !== -1 && nul < lineEnd) {
        this.report(base + nul, line, 'NUL byte: binary data, not a record');
        nul = bytes.indexOf(0, pos);
        continue;
      }
      if (tooMany || field !== columns) {
        this.report(base + lineStart, line, lineEnd === lineStart ? 'empty line' : `${field} fields, expected ${columns}`);
        continue;
      }
      if (lineEnd === length) {
        this.report(base + lineStart, line, 'cut short (no newline at the end of the file)');
        continue;
      }
      row.line = line;
      row.offset = base + lineStart;
      try {
        this.visit(row);
      } catch (err) {
        if (!(err instanceof RecordProblem)) throw err;
        this.report(base + lineStart, line, err.message);
      }
    }
    return length;
  }
}

/** Field i as text (UTF-8), for messages and rare fields. */
export function fieldText(row: TsvRow, i: number): string {
  return row.bytes.toString('utf8', row.starts[i]!, row.ends[i]!);
}

/** Is field i exactly the one byte `code` (e.g. 0x2d for the module's "-")? */
export function fieldIsByte(row: TsvRow, i: number, code: number): boolean {
  const s = row.starts[i]!;
  return row.ends[i]! === s + 1 && row.bytes[s] === code;
}

/** Does field i hold exactly the ASCII text `word`? */
export function fieldEquals(row: TsvRow, i: number, word: string): boolean {
  const s = row.starts[i]!;
  if (row.ends[i]! - s !== word.length) return false;
  for (let k = 0; k < word.length; k++) if (row.bytes[s + k] !== word.charCodeAt(k)) return false;
  return true;
}

/** Field i as a count (see byte-fields.ts countAt: the values text-lines.ts parseCount accepts). */
export function fieldCount(row: TsvRow, i: number): number | undefined {
  return countAt(row.bytes, row.starts[i]!, row.ends[i]!);
}

/** Field i as the string it stands for (escapes undone), from `strings`' table. */
export function fieldString(strings: ByteStrings, row: TsvRow, i: number): string {
  return strings.get(row.bytes, row.starts[i]!, row.ends[i]!);
}
