import { FormatError } from '../../errors.js';

/** 0xFFFF_FFFF_FFFF_FFFF: "no such table" in superblock pointers. */
export const NO_TABLE = -1;

/**
 * Little-endian u64 as a number. Values past 2^53 cannot be an offset or size in any image we can
 * read, so they are rejected here instead of losing precision; all-ones maps to NO_TABLE.
 */
export function readU64(buf: Buffer, pos: number, file: string, fileOffset: number, what: string): number {
  const low = buf.readUInt32LE(pos);
  const high = buf.readUInt32LE(pos + 4);
  if (high === 0xffffffff && low === 0xffffffff) return NO_TABLE;
  if (high >= 0x200000) throw new FormatError(file, fileOffset, `${what} ${high * 2 ** 32 + low} is too large`);
  return high * 2 ** 32 + low;
}
