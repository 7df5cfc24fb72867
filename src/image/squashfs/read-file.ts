import { FormatError, InputError, LimitError } from '../../errors.js';
import type { SquashfsEntry, SquashfsImage } from './types.js';

/** node's Buffer limit: readFile refuses files past it; fileChunks has no limit. */
const MAX_BUFFER = 2 ** 32 - 1;

/**
 * The content of a regular file, block by block: each data block decompressed (sparse blocks as
 * zeros), then the tail cut from its fragment block. Every block must decompress to exactly the
 * size the file size implies.
 */
export function* fileChunks(img: SquashfsImage, entry: SquashfsEntry): Generator<Buffer> {
  if (entry.type !== 'file') throw new InputError(`${img.name}: ${entry.path} is not a regular file (${entry.type})`);
  const bs = img.blockSize;
  const blocks = entry.blocks ?? [];
  let remaining = entry.size;
  let zeros: Buffer | undefined;
  for (let i = 0; i < blocks.length; i++) {
    const b = blocks[i]!;
    const expected = Math.min(bs, remaining);
    if (b.sparse) {
      zeros ??= Buffer.alloc(bs);
      yield zeros.subarray(0, expected);
    } else {
      const data = img.readBlock(b.offset, b.size, b.uncompressed, `${entry.path} block ${i}`);
      if (data.length !== expected) {
        throw new FormatError(img.name, b.offset, `${entry.path} block ${i} holds ${data.length} bytes, expected ${expected}`);
      }
      yield data;
    }
    remaining -= expected;
  }
  const f = entry.fragment;
  if (f) {
    const block = img.readFragment(f.index);
    if (f.offsetInBlock + f.length > block.length) {
      throw new FormatError(img.name, f.blockOffset, `fragment ${f.index} holds ${block.length} bytes, ${entry.path} needs ${f.offsetInBlock}+${f.length}`);
    }
    yield block.subarray(f.offsetInBlock, f.offsetInBlock + f.length);
    remaining -= f.length;
  }
  if (remaining !== 0) throw new FormatError(img.name, undefined, `${entry.path}: blocks and fragment hold ${entry.size - remaining} of ${entry.size} bytes`);
}

export function readFile(img: SquashfsImage, entry: SquashfsEntry): Buffer {
  if (entry.size > MAX_BUFFER) throw new LimitError(img.name, undefined, `${entry.path} is ${entry.size} bytes, too large for one buffer`);
  const parts: Buffer[] = [];
  for (const chunk of fileChunks(img, entry)) parts.push(chunk);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, entry.size);
}
