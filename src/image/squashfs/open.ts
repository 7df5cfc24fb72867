import { decompressorFor } from '../decompress/index.js';
import type { ByteSource } from '../source.js';
import { openSquashfsWith } from './open-with.js';
import type { SquashfsImage } from './types.js';

/** openSquashfsWith with every decompressor loaded (open-with.ts parses). */
export function openSquashfs(src: ByteSource): SquashfsImage {
  return openSquashfsWith(src, decompressorFor);
}
