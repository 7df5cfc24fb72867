import { FormatError } from '../errors.js';

/**
 * Line-by-line walk over an ASCII text trace (qemu log, blkparse output) held in a Buffer.
 * The text is decoded as latin1 in chunks cut at newlines, so a character index is a byte offset
 * (error messages name exact bytes) and a 2 GiB trace never becomes one giant string.
 */
const CHUNK_BYTES = 16 * 1024 * 1024;
/** No trace format we read has lines anywhere near this long: a longer one is not text. */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Calls `visit` for each line. A callback, not a generator: a million-line trace should not
 * allocate a result object per line.
 */
export function forEachLine(
  bytes: Buffer,
  source: string,
  visit: (text: string, offset: number, lineNumber: number, terminated: boolean) => void,
): void {
  let chunkStart = 0;
  let lineNumber = 0;
  while (chunkStart < bytes.length) {
    let chunkEnd = Math.min(bytes.length, chunkStart + CHUNK_BYTES);
    if (chunkEnd < bytes.length) {
      // cut after the last newline of the chunk so no line spans two chunks
      const lastNewline = bytes.lastIndexOf(0x0a, chunkEnd - 1);
      if (lastNewline < chunkStart) throw longLine(source, chunkStart);
      chunkEnd = lastNewline + 1;
    }
    const text = bytes.toString('latin1', chunkStart, chunkEnd);
    let pos = 0;
    while (pos < text.length) {
      let end = text.indexOf('\n', pos);
      const terminated = end !== -1;
      if (!terminated) end = text.length;
      if (end - pos > MAX_LINE_BYTES) throw longLine(source, chunkStart + pos);
      lineNumber++;
      const cr = end > pos && text.charCodeAt(end - 1) === 0x0d ? 1 : 0;
      visit(text.slice(pos, end - cr), chunkStart + pos, lineNumber, terminated);
      pos = end + 1;
    }
    chunkStart = chunkEnd;
  }
}

/**
 * forEachLine for a parser with a byte fast path (blkparse-fast-rows.ts, qemu-fast-rows.ts):
 * `fast.take(start)` reads the common lines from `start` (a line's start) straight from the
 * bytes and returns the start of the first line it left, `fast.taken()` counts the lines it took
 * so far. That line goes to `visit` as text, exactly as forEachLine would hand it over (so every
 * check and error message stays with the text path). No chunk-sized strings are built. A reader
 * takes only newline-ended lines of at most MAX_LINE_BYTES. With `onLongLine`, a longer line
 * (binary garbage) is handed to it and skipped instead of ending the walk.
 */
export function forEachLineBatched(
  bytes: Buffer,
  source: string,
  fast: { take: (start: number) => number; taken: () => number },
  visit: (text: string, offset: number, lineNumber: number, terminated: boolean) => void,
  onLongLine?: (offset: number, lineNumber: number) => void,
): void {
  let pos = 0;
  let lineNumber = 0;
  const length = bytes.length;
  while (pos < length) {
    const before = fast.taken();
    const next = fast.take(pos);
    if (next !== pos) {
      lineNumber += fast.taken() - before;
      pos = next;
      continue;
    }
    lineNumber++;
    let end = bytes.indexOf(0x0a, pos);
    const terminated = end !== -1;
    if (!terminated) end = length;
    if (end - pos > MAX_LINE_BYTES) {
      if (onLongLine === undefined) throw longLine(source, pos);
      onLongLine(pos, lineNumber);
    } else {
      const cr = end > pos && bytes[end - 1] === 0x0d ? 1 : 0;
      visit(bytes.toString('latin1', pos, end - cr), pos, lineNumber, terminated);
    }
    pos = end + 1;
  }
}

function longLine(source: string, offset: number): FormatError {
  return new FormatError(source, offset, `line longer than ${MAX_LINE_BYTES} bytes: this is not a text trace`);
}

/** Offset of the first byte that has no business in a text trace (NUL and other C0 controls but tab/CR), or -1. */
export function firstBinaryByte(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 && c !== 0x09 && c !== 0x0d) return i;
    if (c === 0x7f) return i;
  }
  return -1;
}

/** The first `maxLines` non-empty lines of a head buffer, for format detection. */
export function headLines(head: Buffer, maxLines: number): string[] {
  const text = head.toString('latin1');
  const out: string[] = [];
  let pos = 0;
  while (pos < text.length && out.length < maxLines) {
    let end = text.indexOf('\n', pos);
    if (end === -1) end = text.length;
    const line = text.slice(pos, end).replace(/\r$/, '');
    if (line.trim().length > 0) out.push(line);
    pos = end + 1;
  }
  return out;
}

/** A non-negative decimal that fits a double exactly, or undefined. */
export function parseCount(text: string): number | undefined {
  if (text.length === 0 || text.length > 16) return undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return undefined;
  }
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Short quoted excerpt of a line for error messages. */
export function excerpt(line: string): string {
  return JSON.stringify(line.length > 80 ? `${line.slice(0, 80)}...` : line);
}
