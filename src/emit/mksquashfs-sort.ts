/**
 * Writing the mksquashfs -sort format; the format, its escaping rules and its parser live in
 * src/formats/sort-file.ts (shared with src/image/verify.ts).
 */
export { escapeMksquashfsPath } from '../formats/sort-file.js';

export function mksquashfsLine(escapedPath: string, priority: number): string {
  return `${escapedPath} ${priority}\n`;
}
