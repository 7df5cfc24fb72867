import { createRequire } from 'node:module';
import { DecompressError } from './types.js';

interface NapiLzma {
  xz: { decompressSync(input: Uint8Array): Buffer };
  lzma: { decompressSync(input: Uint8Array): Buffer };
}
// @napi-rs/lzma is CommonJS with a prebuilt binding shipped in a platform package; load it lazily
// so images with other compressors never touch it.
let binding: NapiLzma | undefined;
export function napiLzma(): NapiLzma {
  binding ??= createRequire(import.meta.url)('@napi-rs/lzma') as NapiLzma;
  return binding;
}

/**
 * The uncompressed size an xz stream declares in its index (sum of its records), read before
 * decoding so a hostile block cannot expand past the limit: the decoder has no output cap.
 */
export function xzDeclaredSize(input: Uint8Array): number {
  const n = input.length;
  if (n < 12 + 12) throw new DecompressError('xz: stream shorter than header and footer');
  if (input[n - 2] !== 0x59 || input[n - 1] !== 0x5a) throw new DecompressError('xz: bad footer magic');
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const backwardSize = (view.getUint32(n - 8, true) + 1) * 4;
  const indexStart = n - 12 - backwardSize;
  if (indexStart < 12) throw new DecompressError('xz: index size past the start of the stream');
  let p = indexStart;
  const varint = (): number => {
    let value = 0;
    for (let i = 0; i < 9; i++) {
      if (p >= n - 12) throw new DecompressError('xz: truncated index');
      const b = input[p++]!;
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return value;
    }
    throw new DecompressError('xz: index number too long');
  };
  if (input[p++] !== 0) throw new DecompressError('xz: bad index indicator');
  const records = varint();
  if (records > backwardSize) throw new DecompressError('xz: index record count too large');
  let total = 0;
  for (let i = 0; i < records; i++) {
    varint(); // unpadded size
    total += varint();
  }
  return total;
}

export function decompressXz(input: Uint8Array, maxOutput: number): Buffer {
  const declared = xzDeclaredSize(input);
  if (declared > maxOutput) throw new DecompressError(`xz: declared size ${declared} exceeds ${maxOutput} bytes`);
  let out: Buffer;
  try {
    out = napiLzma().xz.decompressSync(input);
  } catch (err) {
    throw new DecompressError(`xz: ${(err as Error).message}`, { cause: err });
  }
  if (out.length !== declared) throw new DecompressError(`xz: decoded ${out.length} bytes, index says ${declared}`);
  return out;
}
