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

const CHECK_SIZES: Readonly<Record<number, number>> = { 0: 0, 1: 4, 4: 8, 10: 32 };

/**
 * The uncompressed size the LZMA2 chunk headers of every block add up to. Chunk headers are not
 * compressed and each states its unpacked size, which a decoder must honour: summing them bounds the
 * output exactly, even when the index lies. Filters before LZMA2 (BCJ, delta) keep sizes unchanged.
 */
export function xzChunkedSize(input: Uint8Array): number {
  const n = input.length;
  const magic = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
  if (n < 12 || magic.some((b, i) => input[i] !== b)) throw new DecompressError('xz: bad stream header');
  const checkSize = CHECK_SIZES[input[7]!];
  if (input[6] !== 0 || checkSize === undefined) throw new DecompressError(`xz: unsupported stream flags ${input[6]} ${input[7]}`);
  let p = 12;
  let total = 0;
  // Every block and every chunk consumes at least one byte: the loops end within n steps.
  for (;;) {
    if (p >= n) throw new DecompressError('xz: truncated before the index');
    if (input[p] === 0) return total; // index indicator: no more blocks
    const blockStart = p;
    p += (input[p]! + 1) * 4;
    for (;;) {
      if (p >= n) throw new DecompressError('xz: truncated LZMA2 data');
      const control = input[p]!;
      if (control === 0) {
        p++;
        break;
      }
      if (control === 1 || control === 2) {
        if (p + 3 > n) throw new DecompressError('xz: truncated LZMA2 chunk header');
        const size = ((input[p + 1]! << 8) | input[p + 2]!) + 1;
        total += size;
        p += 3 + size;
      } else if (control >= 0x80) {
        if (p + 5 > n) throw new DecompressError('xz: truncated LZMA2 chunk header');
        total += ((control & 0x1f) << 16) + ((input[p + 1]! << 8) | input[p + 2]!) + 1;
        const packed = ((input[p + 3]! << 8) | input[p + 4]!) + 1;
        p += (control >= 0xc0 ? 6 : 5) + packed;
      } else {
        throw new DecompressError(`xz: invalid LZMA2 control byte 0x${control.toString(16)}`);
      }
    }
    p += (4 - ((p - blockStart) % 4)) % 4; // block padding
    p += checkSize;
  }
}

export function decompressXz(input: Uint8Array, maxOutput: number): Buffer {
  const declared = xzDeclaredSize(input);
  const chunked = xzChunkedSize(input);
  if (chunked !== declared) throw new DecompressError(`xz: LZMA2 chunks hold ${chunked} bytes, index says ${declared}`);
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
