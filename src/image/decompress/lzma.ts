import { napiLzma } from './xz.js';
import { DecompressError } from './types.js';

/**
 * Legacy LZMA as mksquashfs writes it (lzma_wrapper.c): the 13-byte "LZMA alone" header
 * (properties byte, u32 dictionary size, u64 uncompressed size, always filled in), then the stream.
 * The declared size is checked against the limit before decoding.
 */
export function decompressLzmaAlone(input: Uint8Array, maxOutput: number): Buffer {
  if (input.length < 13) throw new DecompressError('lzma: block shorter than its 13-byte header');
  if (input[0]! >= 9 * 5 * 5) throw new DecompressError(`lzma: bad properties byte ${input[0]}`);
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const low = view.getUint32(5, true);
  const high = view.getUint32(9, true);
  if (high !== 0 || low > maxOutput) {
    throw new DecompressError(`lzma: declared size ${high === 0xffffffff && low === 0xffffffff ? 'unknown' : high * 2 ** 32 + low} exceeds ${maxOutput} bytes`);
  }
  let out: Buffer;
  try {
    out = napiLzma().lzma.decompressSync(input);
  } catch (err) {
    throw new DecompressError(`lzma: ${(err as Error).message}`, { cause: err });
  }
  if (out.length !== low) throw new DecompressError(`lzma: decoded ${out.length} bytes, header says ${low}`);
  return out;
}
