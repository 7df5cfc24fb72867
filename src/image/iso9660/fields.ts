import { FormatError } from '../../errors.js';

/** ISO 9660 logical block size. Other block sizes exist on paper; no writer in use makes them. */
export const SECTOR = 2048;

/**
 * A "both-endian" 32-bit field (ECMA-119 7.3.3, docs/formats.md §2.1): the little-endian value, then the
 * same value big-endian. Linux isofs reads only the little-endian half; we read both and reject an
 * image whose halves disagree (a damaged or hostile image), naming the field's byte offset.
 * `base` is the image offset of buf[0].
 */
export function both32(buf: Buffer, at: number, file: string, base: number): number {
  const le = buf.readUInt32LE(at);
  const be = buf.readUInt32BE(at + 4);
  if (le !== be) throw new FormatError(file, base + at, `both-endian field: little-endian half ${le}, big-endian half ${be}`);
  return le;
}

/** The 16-bit both-endian field (ECMA-119 7.2.3), checked the same way. */
export function both16(buf: Buffer, at: number, file: string, base: number): number {
  const le = buf.readUInt16LE(at);
  const be = buf.readUInt16BE(at + 2);
  if (le !== be) throw new FormatError(file, base + at, `both-endian field: little-endian half ${le}, big-endian half ${be}`);
  return le;
}

/**
 * Throws unless `value` is an integer in [0, max]. `what` names the field; `offset` is where it was read.
 */
export function bounded(value: number, max: number, file: string, offset: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new FormatError(file, offset, `${what} ${value} out of range (max ${max})`);
  }
  return value;
}

/** Trimmed ASCII (a-/d-characters) field, for identifiers in volume descriptors. */
export function asciiField(buf: Buffer, at: number, length: number): string {
  return buf.toString('latin1', at, at + length).replace(/[\0 ]+$/, '');
}

/** UCS-2 big-endian (Joliet) to a JS string. Surrogate pairs pass through as UTF-16. */
export function ucs2be(buf: Buffer, at: number, length: number): string {
  const even = length & ~1;
  const swapped = Buffer.allocUnsafe(even);
  for (let i = 0; i < even; i += 2) {
    swapped[i] = buf[at + i + 1]!;
    swapped[i + 1] = buf[at + i]!;
  }
  return swapped.toString('utf16le');
}
