import { decompress } from 'fzstd';
import { DecompressError } from './types.js';

const ZSTD_MAGIC = 0xfd2fb528;

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
  let p = 5 + (singleSegment ? 0 : 1) + [0, 1, 2, 4][dictIdFlag]!;
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
      p += 8;
      return high * 2 ** 32 + low;
    }
  }
}

export function decompressZstd(input: Uint8Array, maxOutput: number): Buffer {
  const declared = frameContentSize(input);
  if (declared !== undefined && declared > maxOutput) {
    throw new DecompressError(`zstd: declared size ${declared} exceeds ${maxOutput} bytes`);
  }
  const target = new Uint8Array(declared ?? maxOutput);
  let out: Uint8Array;
  try {
    out = decompress(input, target);
  } catch (err) {
    throw new DecompressError(`zstd: ${(err as Error).message}`, { cause: err });
  }
  if (out.length > maxOutput) throw new DecompressError(`zstd: output exceeds ${maxOutput} bytes`);
  return Buffer.from(out.buffer, out.byteOffset, out.length);
}
