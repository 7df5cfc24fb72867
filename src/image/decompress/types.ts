/**
 * A block decompressor: turns one compressed block into at most `maxOutput` bytes.
 * It throws DecompressError on corrupt input or when the output would exceed `maxOutput`;
 * callers wrap that into a FormatError naming the image and the block's offset.
 */
export type Decompressor = (input: Uint8Array, maxOutput: number) => Buffer;

/** Malformed compressed data; carries no position, the caller knows where the block was. */
export class DecompressError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DecompressError';
  }
}
