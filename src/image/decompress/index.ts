import { inflateZlib } from './gzip.js';
import { decompressLz4Block } from './lz4.js';
import { decompressLzmaAlone } from './lzma.js';
import { decompressLzo1x } from './lzo.js';
import { decompressXz } from './xz.js';
import { decompressZstd } from './zstd.js';
import type { CompressorName } from './names.js';
import type { Decompressor } from './types.js';

export type { Decompressor } from './types.js';
export { COMPRESSOR_NAMES, type CompressorName } from './names.js';
export { DecompressError } from './types.js';

const DECOMPRESSORS: Readonly<Record<CompressorName, Decompressor>> = {
  gzip: inflateZlib,
  lzma: decompressLzmaAlone,
  lzo: decompressLzo1x,
  xz: decompressXz,
  lz4: decompressLz4Block,
  zstd: decompressZstd,
};

export function decompressorFor(name: CompressorName): Decompressor {
  return DECOMPRESSORS[name];
}
