import { inflateSync } from 'node:zlib';
import { DecompressError } from './types.js';

/** squashfs "gzip" is a zlib stream (RFC 1950), as written by deflate(). */
export function inflateZlib(input: Uint8Array, maxOutput: number): Buffer {
  try {
    // maxOutputLength makes zlib stop with ERR_BUFFER_TOO_LARGE instead of growing without bound.
    return inflateSync(input, { maxOutputLength: Math.max(1, maxOutput) });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new DecompressError(`zlib output exceeds ${maxOutput} bytes`);
    throw new DecompressError(`zlib: ${(err as Error).message}`, { cause: err });
  }
}
