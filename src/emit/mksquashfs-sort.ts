/**
 * The mksquashfs -sort format: `path priority` per line, path relative to the source directory.
 * mksquashfs ends a path at the first whitespace and lets a backslash escape the next character;
 * a line starting with '#' is a comment. Lines are limited to 16384 bytes (MAX_LINE).
 */
const MAX_LINE_BYTES = 16384;

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

export function mksquashfsLine(escapedPath: string, priority: number): string {
  return `${escapedPath} ${priority}\n`;
}
