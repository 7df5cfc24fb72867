/**
 * squashfs-tools-ng's gensquashfs sort file (`gensquashfs --sort-file FILE`), as 1.2.0 reads it
 * (bin/gensquashfs/sort_by_file.c, lib/io/get_line.c, lib/util/canonicalize_name.c; `man gensquashfs`):
 *
 * - one entry per line: `PRIORITY [FLAGS] NAME`; lines are split at '\n' (a '\r' before it is
 *   dropped), trimmed at both ends; empty lines and lines starting with '#' are skipped.
 * - PRIORITY: optional '-', decimal digits (no '+'), a signed 64-bit value, then whitespace.
 *   Files are packed by ascending priority (lower first, stable); unlisted files get 0.
 * - FLAGS: optional `[flag,flag]` (glob, glob_no_path, dont_fragment, align, dont_compress,
 *   dont_deduplicate, nosparse), then whitespace.
 * - NAME: the rest of the line, taken literally (no escapes), compared with strcmp to the file's
 *   path in the image after canonicalize_name (no leading '/', '//' collapsed, './' removed, '..'
 *   refused), unless [glob]. The first line that names a file wins.
 * - A NAME starting with '"' is a quoted name (`\\` and `\"` escapes, as the man page says), but
 *   decode_filename() in 1.2.0 (and 1.3.x) never terminates the decoded string: `"d/plain"` is
 *   looked up as `d/plainn"` and matches nothing (measured: "WARNING: no match for 'd/plainn"'").
 *   So names are written bare, and a name that needs quoting cannot be written: one that starts
 *   with '"' or starts or ends with whitespace (trimmed). A name starting with '[' is written after
 *   an explicit flag list (`[]` when there is no flag), so that it is not read as flags.
 *   A newline cannot be written at all.
 */

export const GENSQUASHFS_FLAGS = ['glob', 'glob_no_path', 'dont_fragment', 'align', 'dont_compress', 'dont_deduplicate', 'nosparse'] as const;
export type GensquashfsFlag = (typeof GENSQUASHFS_FLAGS)[number];

const isCSpace = (c: string): boolean => c === ' ' || (c >= '\t' && c <= '\r');

/** The name as written for a relative path, or why gensquashfs 1.2.0 cannot read it back. */
export function gensquashfsName(rel: string): { ok: true; text: string } | { ok: false; why: string } {
  if (rel.includes('\n')) return { ok: false, why: 'a newline in the name cannot be written in a gensquashfs sort file (one entry per line, no escape for it)' };
  if (rel.includes('\0')) return { ok: false, why: 'a NUL byte in the name' };
  const parts = rel.split('/').filter((p) => p !== '');
  if (parts.length === 0) return { ok: false, why: 'an empty path' };
  if (parts.some((p) => p === '.' || p === '..')) return { ok: false, why: "a '.' or '..' component (gensquashfs canonicalizes or refuses it)" };
  const text = parts.join('/');
  if (text.startsWith('"')) return { ok: false, why: 'a leading \'"\' needs a quoted name, which gensquashfs 1.2.0 misreads (decode_filename leaves the string unterminated)' };
  if (isCSpace(text[0]!) || isCSpace(text[text.length - 1]!)) {
    return { ok: false, why: 'leading or trailing whitespace is trimmed from the line; a quoted name would keep it, but gensquashfs 1.2.0 misreads quoted names' };
  }
  return { ok: true, text };
}

/** `PRIORITY [FLAGS] NAME\n`; the flag list is written when there are flags or the name starts with '['. */
export function gensquashfsLine(priority: number, flags: readonly GensquashfsFlag[], name: string): string {
  if (!Number.isSafeInteger(priority)) throw new RangeError(`gensquashfs priority ${priority} is not a safe integer`);
  const list = flags.length > 0 || name.startsWith('[') ? ` [${flags.join(',')}]` : '';
  return `${priority}${list} ${name}\n`;
}
