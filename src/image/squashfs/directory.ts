import { FormatError } from '../../errors.js';
import type { MetadataTable } from './metadata.js';

export interface DirectoryChild {
  /** Full path of the child ("/dir/name"). */
  path: string;
  /** Basic inode type (1..7) the entry claims. */
  claimedType: number;
  /** Position of the child's inode in the uncompressed inode table. */
  at: number;
}

const MAX_NAME = 256;
const MAX_RUN = 256;

/**
 * Append the entries of one directory listing to `out`, in listing order: runs of (header {count - 1, inode block, base inode number},
 * entries {offset, inode delta, type, name size - 1, name}) filling `size` bytes from `at`.
 */
export function readDirectory(
  file: string,
  dirTable: MetadataTable,
  inodeTable: MetadataTable,
  at: number,
  size: number,
  dirPath: string,
  out: DirectoryChild[],
): void {
  const buf = dirTable.bytes;
  const end = at + size;
  const fail = (pos: number, msg: string): never => {
    throw new FormatError(file, dirTable.diskPositionOf(pos), `directory ${dirPath} (directory-table byte ${pos}): ${msg}`);
  };
  if (end > buf.length) fail(at, `listing of ${size} bytes runs past the directory table (${buf.length} bytes)`);
  const prefix = dirPath === '/' ? '/' : dirPath + '/';
  let p = at;
  let previousName = '';
  // Every header and entry consumes at least 12 and 9 bytes, so the loops end within size / 9 steps.
  while (p < end) {
    if (p + 12 > end) fail(p, 'truncated directory header');
    const count = buf.readUInt32LE(p) + 1;
    const inodeBlock = buf.readUInt32LE(p + 4);
    if (count > MAX_RUN) fail(p, `directory header announces ${count} entries (at most ${MAX_RUN})`);
    const headerPos = p;
    p += 12;
    for (let i = 0; i < count; i++) {
      if (p + 8 > end) fail(p, `entry ${i} of the run at ${headerPos} is truncated`);
      const offset = buf.readUInt16LE(p);
      const type = buf.readUInt16LE(p + 4);
      const nameLength = buf.readUInt16LE(p + 6) + 1;
      if (type < 1 || type > 7) fail(p, `entry has inode type ${type} (directory entries use 1..7)`);
      if (nameLength > MAX_NAME) fail(p, `entry name of ${nameLength} bytes`);
      if (p + 8 + nameLength > end) fail(p, 'entry name runs past the listing');
      const name = buf.toString('utf8', p + 8, p + 8 + nameLength);
      // A name with a slash, or "." / "..", would let a hostile image place files outside their directory.
      if (name.includes('/') || name === '.' || name === '..' || name.includes('\0')) fail(p, `invalid entry name ${JSON.stringify(name)}`);
      // mksquashfs sorts names (strcmp); the kernel's lookup relies on it. Equal names are duplicates.
      if (name === previousName) fail(p, `duplicate entry ${JSON.stringify(name)}`);
      previousName = name;
      let inodeAt = inodeTable.find(inodeBlock, offset);
      // the message (and the disk position it names) only for a bad reference: 100k entries pay nothing
      if (inodeAt < 0) inodeAt = inodeTable.resolve(inodeBlock, offset, file, dirTable.diskPositionOf(p), `entry ${JSON.stringify(name)} of ${dirPath}`);
      out.push({ path: prefix + name, claimedType: type, at: inodeAt });
      p += 8 + nameLength;
    }
  }
}
