import { FormatError } from '../../errors.js';
import type { MetadataTable } from './metadata.js';

/** Numbers pushed per child by readDirectory: inode position, claimed type, name start, name length. */
export const CHILD_WORDS = 4;
/** Added to a pushed name length when JSON must escape or decode the name (control, quote, backslash, non-ASCII). */
export const NAME_NOT_PLAIN = 0x10000;

const MAX_NAME = 256;
const MAX_RUN = 256;
const SLASH = 0x2f;
const DOT = 0x2e;

/**
 * Write the entries of one directory listing to `out` from index 0, in listing order (returns how
 * many numbers), CHILD_WORDS numbers each
 * (inode-table position, claimed basic type, name start and length in the directory table, plus
 * NAME_NOT_PLAIN for a name JSON must escape): runs
 * of (header {count - 1, inode block, base inode number}, entries {offset, inode delta, type,
 * name size - 1, name}) filling `size` bytes from `at`. Names stay bytes in the table: the walk
 * decodes a name only when a path is asked for.
 */
export function readDirectory(
  file: string,
  dirTable: MetadataTable,
  inodeTable: MetadataTable,
  at: number,
  size: number,
  dirPath: () => string,
  out: number[],
): number {
  const buf = dirTable.bytes;
  const dv = dirTable.view;
  const end = at + size;
  const fail = (pos: number, msg: string): never => {
    throw new FormatError(file, dirTable.diskPositionOf(pos), `directory ${dirPath()} (directory-table byte ${pos}): ${msg}`);
  };
  const nameOf = (s: number, n: number): string => JSON.stringify(buf.toString('utf8', s, s + n));
  if (end > buf.length) fail(at, `listing of ${size} bytes runs past the directory table (${buf.length} bytes)`);
  let p = at;
  // out is reused from directory to directory and never shrinks (emptying it would drop its storage)
  let n = 0;
  let previousStart = -1;
  let previousLength = 0;
  // Every header and entry consumes at least 12 and 9 bytes, so the loops end within size / 9 steps.
  while (p < end) {
    if (p + 12 > end) fail(p, 'truncated directory header');
    const count = dv.getUint32(p, true) + 1;
    const inodeBlock = dv.getUint32(p + 4, true);
    if (count > MAX_RUN) fail(p, `directory header announces ${count} entries (at most ${MAX_RUN})`);
    const headerPos = p;
    p += 12;
    // every entry of a run has its inode in the same block: find the block once (-1: none starts there)
    const runBase = inodeTable.find(inodeBlock, 0);
    const runLength = runBase < 0 ? 0 : inodeTable.blockLengthAt(runBase);
    for (let i = 0; i < count; i++) {
      if (p + 8 > end) fail(p, `entry ${i} of the run at ${headerPos} is truncated`);
      const offset = dv.getUint16(p, true);
      const type = dv.getUint16(p + 4, true);
      const nameLength = dv.getUint16(p + 6, true) + 1;
      if (type < 1 || type > 7) fail(p, `entry has inode type ${type} (directory entries use 1..7)`);
      if (nameLength > MAX_NAME) fail(p, `entry name of ${nameLength} bytes`);
      const nameStart = p + 8;
      if (nameStart + nameLength > end) fail(p, 'entry name runs past the listing');
      // A name with a slash, or "." / "..", would let a hostile image place files outside their directory.
      let bad = false;
      let plain = true;
      for (let k = nameStart; k < nameStart + nameLength; k++) {
        const c = buf[k]!;
        if (c === SLASH || c === 0) bad = true;
        // the JSON writer copies a plain name as it is stored
        if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) plain = false;
      }
      if (buf[nameStart] === DOT && (nameLength === 1 || (nameLength === 2 && buf[nameStart + 1] === DOT))) bad = true;
      if (bad) fail(p, `invalid entry name ${nameOf(nameStart, nameLength)}`);
      // mksquashfs sorts names (strcmp); the kernel's lookup relies on it. Equal names are duplicates.
      if (previousLength === nameLength && sameBytes(buf, previousStart, nameStart, nameLength)) fail(p, `duplicate entry ${nameOf(nameStart, nameLength)}`);
      previousStart = nameStart;
      previousLength = nameLength;
      let inodeAt = offset < runLength ? runBase + offset : -1;
      // the message (and the disk position it names) only for a bad reference: 100k entries pay nothing
      if (inodeAt < 0) inodeAt = inodeTable.resolve(inodeBlock, offset, file, dirTable.diskPositionOf(p), `entry ${nameOf(nameStart, nameLength)} of ${dirPath()}`);
      out[n++] = inodeAt;
      out[n++] = type;
      out[n++] = nameStart;
      out[n++] = plain ? nameLength : nameLength + NAME_NOT_PLAIN;
      p = nameStart + nameLength;
    }
  }
  return n;
}

/** buf[a..a+n) equals buf[b..b+n): a loop, as adjacent names mostly differ early (Buffer.compare costs more per call). */
function sameBytes(buf: Buffer, a: number, b: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (buf[a + k] !== buf[b + k]) return false;
  return true;
}
