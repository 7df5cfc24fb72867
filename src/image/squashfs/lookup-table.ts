import { FormatError } from '../../errors.js';
import { readU64 } from './bytes.js';
import { METADATA_SIZE, type BlockReader } from './metadata.js';

/**
 * A lookup table (fragment, id, export, xattr id): `indexStart` holds an uncompressed array of
 * u64 absolute positions of metadata blocks, which together hold `count` entries of `entrySize`.
 */
export interface LookupTable {
  what: string;
  count: number;
  entrySize: number;
  indexStart: number;
  /** Absolute disk position and on-disk size of every metadata block, in index order. */
  blocks: { pos: number; diskLength: number }[];
  /** The entries, decompressed (empty when the table was only located). */
  bytes: Buffer;
}

export function readLookupTable(
  reader: BlockReader,
  what: string,
  indexStart: number,
  count: number,
  entrySize: number,
  decompress: boolean,
): LookupTable {
  const name = reader.src.name;
  const totalBytes = count * entrySize;
  const blockCount = Math.ceil(totalBytes / METADATA_SIZE);
  const indexLength = blockCount * 8;
  if (indexStart + indexLength > reader.end) {
    throw new FormatError(name, indexStart, `${what} index of ${blockCount} entries (${count} entries of ${entrySize} bytes) runs past the end of the image`);
  }
  const index = reader.src.read(indexStart, indexLength);
  const blocks: LookupTable['blocks'] = [];
  const parts: Buffer[] = [];
  let previousEnd = 0;
  for (let i = 0; i < blockCount; i++) {
    const pos = readU64(index, i * 8, name, indexStart + i * 8, `${what} block position`);
    // Blocks come before their index and do not overlap: each one is at least 3 bytes, so a hostile
    // count cannot make us decompress the same block over and over.
    if (pos < previousEnd || pos >= indexStart) {
      throw new FormatError(name, indexStart + i * 8, `${what} block ${i} at ${pos} is out of order or not before its index at ${indexStart}`);
    }
    const expected = Math.min(METADATA_SIZE, totalBytes - i * METADATA_SIZE);
    if (decompress) {
      const { data, diskLength } = reader.readMetadataBlock(pos, what);
      if (pos + diskLength > indexStart) throw new FormatError(name, pos, `${what} block ${i} runs into its index`);
      if (data.length !== expected) {
        throw new FormatError(name, pos, `${what} block ${i} holds ${data.length} bytes, expected ${expected}`);
      }
      blocks.push({ pos, diskLength });
      parts.push(data);
      previousEnd = pos + diskLength;
    } else {
      const header = reader.src.read(pos, 2).readUInt16LE(0);
      const diskLength = 2 + (header & 0x7fff);
      if (pos + diskLength > indexStart) throw new FormatError(name, pos, `${what} block ${i} runs into its index`);
      blocks.push({ pos, diskLength });
      previousEnd = pos + diskLength;
    }
  }
  const bytes = decompress ? (parts.length === 1 ? parts[0]! : Buffer.concat(parts, totalBytes)) : Buffer.alloc(0);
  return { what, count, entrySize, indexStart, blocks, bytes };
}
