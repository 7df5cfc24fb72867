import { inflateZlib } from './gzip.js';
import { decompressLz4Block } from './lz4.js';
import { decompressLzmaAlone } from './lzma.js';
import { decompressLzo1x } from './lzo.js';
import { decompressXz } from './xz.js';
import { decompressZstd } from './zstd.js';
import type { Decompressor } from './types.js';

export type { Decompressor } from './types.js';
export { DecompressError } from './types.js';

export type CompressorName = 'gzip' | 'lzma' | 'lzo' | 'xz' | 'lz4' | 'zstd';

/** squashfs compression ids (squashfs_fs.h: ZLIB 1, LZMA 2, LZO 3, XZ 4, LZ4 5, ZSTD 6). */
export const COMPRESSOR_NAMES: Readonly<Record<number, CompressorName>> = {
  1: 'gzip',
  2: 'lzma',
  3: 'lzo',
  4: 'xz',
  5: 'lz4',
  6: 'zstd',
};

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
