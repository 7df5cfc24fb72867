import { FormatError, LimitError } from '../../errors.js';
import type { ByteSource } from '../source.js';
import { SECTOR, both32 } from './fields.js';

/** A directory bigger than this is not something a writer makes (Linux caps far lower in practice). */
export const MAX_DIRECTORY_BYTES = 256 * 1024 * 1024;
const MIN_RECORD = 34;

/** One directory record (ECMA-119 9.1), as stored. */
export interface DirectoryRecord {
  /** Byte offset of the record in the image. */
  offset: number;
  /** First block of the file's data (the extent LBA plus the extended attribute record length). */
  lba: number;
  dataLength: number;
  flags: number;
  fileUnitSize: number;
  interleaveGap: number;
  /** File identifier bytes as stored (\0 = ".", \1 = ".."). */
  identifier: Buffer;
  /** System Use bytes (after the record's padding byte), and their offset in the image. */
  systemUse: Buffer;
  systemUseOffset: number;
}

export const FLAG_DIRECTORY = 0x02;
export const FLAG_ASSOCIATED = 0x04;
export const FLAG_MULTI_EXTENT = 0x80;

/** Parses one directory record at `at` in `buf` (`base` = image offset of buf[0]). */
export function parseRecord(file: string, buf: Buffer, at: number, base: number): DirectoryRecord {
  const len = buf[at]!;
  const offset = base + at;
  if (len < MIN_RECORD) throw new FormatError(file, offset, `directory record length ${len} (minimum ${MIN_RECORD})`);
  if (at + len > buf.length) throw new FormatError(file, offset, `directory record of ${len} bytes runs past its directory`);
  const nameLen = buf[at + 32]!;
  if (33 + nameLen > len) throw new FormatError(file, offset + 32, `file identifier length ${nameLen} does not fit in a ${len}-byte record`);
  const suStart = 33 + nameLen + (nameLen % 2 === 0 ? 1 : 0);
  const suAt = Math.min(suStart, len);
  return {
    offset,
    lba: both32(buf, at + 2, file, base) + buf[at + 1]!,
    dataLength: both32(buf, at + 10, file, base),
    flags: buf[at + 25]!,
    fileUnitSize: buf[at + 26]!,
    interleaveGap: buf[at + 27]!,
    identifier: buf.subarray(at + 33, at + 33 + nameLen),
    systemUse: buf.subarray(at + suAt, at + len),
    systemUseOffset: offset + suAt,
  };
}

/** Reads a directory extent, checking that it lies inside the image. */
export function readDirectoryExtent(source: ByteSource, lba: number, size: number, recordOffset: number): Buffer {
  if (size > MAX_DIRECTORY_BYTES) {
    throw new LimitError(source.name, recordOffset, `directory of ${size} bytes (limit ${MAX_DIRECTORY_BYTES})`);
  }
  const start = lba * SECTOR;
  if (start + size > source.size) {
    throw new FormatError(source.name, recordOffset, `directory at block ${lba} (${size} bytes) is past the end of the image`);
  }
  return source.read(start, size);
}

/**
 * Every record of a directory extent in order. Records never cross a sector boundary; a zero
 * length byte means the rest of the sector is padding (ECMA-119 6.8.1.1).
 */
export function* directoryRecords(file: string, buf: Buffer, base: number): Generator<DirectoryRecord> {
  let pos = 0;
  while (pos < buf.length) {
    const len = buf[pos]!;
    if (len === 0) {
      pos = (Math.floor(pos / SECTOR) + 1) * SECTOR; // always moves forward
      continue;
    }
    if ((pos % SECTOR) + len > SECTOR) {
      throw new FormatError(file, base + pos, `directory record of ${len} bytes crosses a sector boundary`);
    }
    yield parseRecord(file, buf, pos, base);
    pos += len;
  }
}
