import { FormatError, LimitError } from '../errors.js';

/**
 * The mksquashfs -sort format (squashfs-tools 4.5.1, sort.c read_sort_file): `path priority` per
 * line, the path relative to the source directory. Leading whitespace is skipped, a line starting
 * with '#' is a comment, the path ends at the first unescaped whitespace and a backslash escapes
 * the next byte; then a decimal priority in -32768..32767. Lines are limited to MAX_LINE (16384)
 * bytes. Written by src/emit (mksquashfs-sort.ts), read back by src/image/verify.ts.
 */

/** mksquashfs's MAX_LINE in sort.c: a line must be shorter than this. */
export const MAX_LINE_BYTES = 16384;

/** The escaped path, or why it cannot be written. */
export function escapeMksquashfsPath(rel: string): { ok: true; text: string } | { ok: false; why: string } {
  if (rel.includes('\n')) return { ok: false, why: 'a newline in the name cannot be written in a mksquashfs sort file' };
  if (rel.includes('\0')) return { ok: false, why: 'a NUL byte in the name' };
  let text = rel.replace(/[\\ \t\v\f\r]/g, (c) => `\\${c}`);
  if (text.startsWith('#')) text = `\\${text}`;
  // 7 = space + "-32768"
  if (Buffer.byteLength(text) + 7 >= MAX_LINE_BYTES) return { ok: false, why: 'the line would exceed mksquashfs\'s 16384-byte limit' };
  return { ok: true, text };
}

const MAX_ENTRIES = 10_000_000;

export interface SortFileEntry {
  /** As written, unescaped, with a trailing "/*" removed (as mksquashfs does). */
  path: string;
  priority: number;
  /** 1-based line number. */
  line: number;
}

/**
 * Parses a mksquashfs sort file the way mksquashfs 4.5 does (sort.c read_sort_file): leading
 * whitespace skipped, '#' starts a comment line, the path ends at the first unescaped whitespace,
 * a backslash escapes the next byte, then a decimal priority in -32768..32767 and nothing else.
 */
export function parseSortFile(bytes: Buffer, name: string): SortFileEntry[] {
  const out: SortFileEntry[] = [];
  let lineStart = 0;
  for (let lineNo = 1; lineStart < bytes.length; lineNo++) {
    let lineEnd = bytes.indexOf(0x0a, lineStart);
    if (lineEnd < 0) lineEnd = bytes.length;
    if (lineEnd - lineStart >= MAX_LINE_BYTES) throw new FormatError(name, lineStart, `line ${lineNo} is longer than ${MAX_LINE_BYTES} bytes`);
    if (out.length >= MAX_ENTRIES) throw new LimitError(name, lineStart, `more than ${MAX_ENTRIES} entries`);
    const entry = parseLine(bytes, lineStart, lineEnd, lineNo, name);
    if (entry !== undefined) out.push(entry);
    lineStart = lineEnd + 1;
  }
  return out;
}

const isSpace = (c: number | undefined): boolean => c === 0x20 || (c !== undefined && c >= 0x09 && c <= 0x0d);

function parseLine(bytes: Buffer, start: number, end: number, lineNo: number, name: string): SortFileEntry | undefined {
  let i = start;
  while (i < end && isSpace(bytes[i])) i++;
  if (i >= end || bytes[i] === 0x23 /* # */) return undefined;
  const path: number[] = [];
  while (i < end && !isSpace(bytes[i])) {
    if (bytes[i] === 0x5c /* \ */) {
      i++;
      if (i >= end) break;
    }
    path.push(bytes[i]!);
    i++;
  }
  if (path.length === 0) return undefined;
  const rest = bytes.toString('latin1', i, end);
  const m = /^\s*([+-]?\d+)\s*$/.exec(rest);
  if (!m) throw new FormatError(name, i, `line ${lineNo}: expected "path priority" (no priority after the path, or trailing characters)`);
  const priority = Number(m[1]);
  if (priority < -32768 || priority > 32767) throw new FormatError(name, i, `line ${lineNo}: priority ${m[1]} outside -32768..32767`);
  let text = Buffer.from(path).toString('utf8');
  if (text.length > 1 && text.endsWith('/*')) text = text.slice(0, -2);
  return { path: text, priority, line: lineNo };
}
