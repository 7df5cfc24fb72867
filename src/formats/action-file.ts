/**
 * mksquashfs 4.5 action files (`-action-file FILE`), as squashfs-tools 4.5.1 reads them
 * (squashfs-tools/action.c):
 *
 * - read_file(): lines are read with fgets into a MAX_LINE (16384) buffer; a physical line of 16384
 *   bytes or more without its '\n' is fatal ("Line too long"). A line ending in a single '\' is
 *   joined with the next one (the backslash and the newline are removed), so a newline can never be
 *   part of an argument. Leading whitespace is skipped; a line starting with '#' is a comment.
 * - get_token(): the special tokens are `(` `)` `&&` `||` `!` `,` `@` space and tab. In a string,
 *   every '"' toggles quoting and is removed; inside quotes the special tokens are plain characters;
 *   a backslash (quoted or not) makes the next byte literal.
 * - pathname(pattern): check_pathname() prefixes the pattern with '/' when it lacks one, and the
 *   test is fnmatch(pattern, subpath, FNM_PATHNAME|FNM_EXTMATCH), subpath being the file's path in
 *   the image with a leading '/' ("/usr/bin/bash"). No FNM_NOESCAPE: a backslash in the pattern makes
 *   the next byte literal; `*` `?` `[` and, with FNM_EXTMATCH, `+(` `@(` `!(` are special. mksquashfs
 *   never calls setlocale(), so matching is bytewise (C locale): UTF-8 names match byte for byte.
 *
 * So a path is written as pathname("…"): first escaped for fnmatch (a backslash before `\ * ? [ ] + @ !`),
 * then for the lexer (a backslash before `\` and `"`), inside double quotes.
 */

/** mksquashfs's MAX_LINE: a physical line (with its '\n') must be shorter than this. */
export const ACTION_MAX_LINE_BYTES = 16384;

/** The actions bootprof writes; all apply to regular files only (ACTION_REG in action.c). */
export type FileAction = 'no-fragments';

/** Characters fnmatch treats specially (FNM_EXTMATCH adds `+(` `@(` `!(`; escaping `+@!` always is harmless). */
const FNMATCH_SPECIAL = /[\\*?[\]+@!]/g;

/** The fnmatch pattern that matches exactly this relative path, or why there is none. */
export function literalPathPattern(rel: string): { ok: true; pattern: string } | { ok: false; why: string } {
  if (rel.includes('\n')) {
    return {
      ok: false,
      why: 'a newline in the name cannot be written in a mksquashfs action file (lines are read one by one; a backslash-newline joins lines)',
    };
  }
  if (rel.includes('\0')) return { ok: false, why: 'a NUL byte in the name' };
  const clean = rel.replace(/^\/+/, '');
  if (clean === '') return { ok: false, why: 'an empty path' };
  return { ok: true, pattern: `/${clean.replace(FNMATCH_SPECIAL, (c) => `\\${c}`)}` };
}

/** An action-file string argument that the lexer turns back into exactly `arg`. */
export function quoteActionArgument(arg: string): string {
  return `"${arg.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `no-fragments@pathname("/usr/bin/bash")`, or why the path cannot be written. */
export function actionLine(action: FileAction, rel: string): { ok: true; text: string } | { ok: false; why: string } {
  const pat = literalPathPattern(rel);
  if (!pat.ok) return pat;
  const text = `${action}@pathname(${quoteActionArgument(pat.pattern)})\n`;
  if (Buffer.byteLength(text) >= ACTION_MAX_LINE_BYTES) {
    return { ok: false, why: `the action line would be ${Buffer.byteLength(text)} bytes, past mksquashfs's ${ACTION_MAX_LINE_BYTES}-byte line limit` };
  }
  return { ok: true, text };
}
