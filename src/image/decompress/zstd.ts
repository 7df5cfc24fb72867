import { createRequire } from 'node:module';
import type { Decompress as FzstdDecompress } from 'fzstd';
import { DecompressError } from './types.js';

const ZSTD_MAGIC = 0xfd2fb528;

// loaded on the first zstd block, not at start-up: most commands never read a zstd image
let Decompress: typeof FzstdDecompress | undefined;
const fzstd = (): typeof FzstdDecompress =>
  (Decompress ??= (createRequire(import.meta.url)('fzstd') as { Decompress: typeof FzstdDecompress }).Decompress);

/**
 * One zstd frame (ZSTD_compress output). The frame header's content size is read first and
 * checked against the limit; fzstd then decodes into a buffer of exactly that size.
 */
export function frameContentSize(input: Uint8Array): number | undefined {
  if (input.length < 6) throw new DecompressError('zstd: frame shorter than its header');
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (view.getUint32(0, true) !== ZSTD_MAGIC) throw new DecompressError('zstd: bad frame magic');
  const fhd = input[4]!;
  const fcsFlag = fhd >> 6;
  const singleSegment = (fhd >> 5) & 1;
  const dictIdFlag = fhd & 3;
  const p = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictIdFlag]!;
  const fcsBytes = [singleSegment ? 1 : 0, 2, 4, 8][fcsFlag]!;
  if (fcsBytes === 0) return undefined;
  if (p + fcsBytes > input.length) throw new DecompressError('zstd: truncated frame header');
  switch (fcsBytes) {
    case 1:
      return input[p]!;
    case 2:
      return view.getUint16(p, true) + 256;
    case 4:
      return view.getUint32(p, true);
    default: {
      const low = view.getUint32(p, true);
      const high = view.getUint32(p + 4, true);
      return high * 2 ** 32 + low;
    }
  }
}

/**
 * Decoded through fzstd's streaming decoder, which hands over one block (at most 128 KiB) at a time:
 * the running total is checked after each, so neither a lying content size nor a frame without one
 * can make the output grow past the limit.
 */
export function decompressZstd(input: Uint8Array, maxOutput: number): Buffer {
  const declared = frameContentSize(input);
  if (declared !== undefined && declared > maxOutput) {
    throw new DecompressError(`zstd: declared size ${declared} exceeds ${maxOutput} bytes`);
  }
  const out = Buffer.allocUnsafe(maxOutput);
  let length = 0;
  let ended = false;
  const stream = new (fzstd())((chunk: Uint8Array, final?: boolean) => {
    if (length + chunk.length > maxOutput) throw new DecompressError(`zstd: output exceeds ${maxOutput} bytes`);
    out.set(chunk, length);
    length += chunk.length;
    if (final) ended = true;
  });
  try {
    stream.push(input, true);
  } catch (err) {
    if (err instanceof DecompressError) throw err;
    throw new DecompressError(`zstd: ${(err as Error).message}`, { cause: err });
  }
  if (!ended) throw new DecompressError('zstd: frame is truncated');
  if (declared !== undefined && length !== declared) throw new DecompressError(`zstd: decoded ${length} bytes, frame header says ${declared}`);
  return out.subarray(0, length);
}
