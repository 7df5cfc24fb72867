import { FormatError } from '../../errors.js';

/** 0xFFFF_FFFF_FFFF_FFFF: "no such table" in superblock pointers. */
export const NO_TABLE = -1;

/**
 * Little-endian u64 at `pos` as a number, or undefined when it is 2^53 or more: no offset or size
 * in an image we can read is that large, so such a value is rejected instead of losing precision.
 */
export function readU53(buf: Buffer, pos: number): number | undefined {
  const high = buf.readUInt32LE(pos + 4);
  // high 0: the low word as it is (a small integer, not the double `0 * 2 ** 32 + low` gives)
  if (high === 0) return buf.readUInt32LE(pos);
  return high >= 0x200000 ? undefined : high * 2 ** 32 + buf.readUInt32LE(pos);
}

/** The message for a u64 field readU53 rejected. */
export function tooLarge(buf: Buffer, pos: number, what: string): string {
  return `${what} ${buf.readBigUInt64LE(pos)} is too large`;
}

/** A table pointer or size: readU53, with all-ones mapped to NO_TABLE; FormatError at `fileOffset` past 2^53. */
export function readU64(buf: Buffer, pos: number, file: string, fileOffset: number, what: string): number {
  if (buf.readUInt32LE(pos) === 0xffffffff && buf.readUInt32LE(pos + 4) === 0xffffffff) return NO_TABLE;
  const value = readU53(buf, pos);
  if (value === undefined) throw new FormatError(file, fileOffset, tooLarge(buf, pos, what));
  return value;
}
