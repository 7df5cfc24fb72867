import type { CompressorName } from './names.js';
import type { Decompressor } from './types.js';

/** The decompressor of one compressor, loading its module alone (index.ts loads all six). */
export async function loadDecompressor(name: CompressorName): Promise<Decompressor> {
  switch (name) {
    case 'gzip':
      return (await import('./gzip.js')).inflateZlib;
    case 'lzma':
      return (await import('./lzma.js')).decompressLzmaAlone;
    case 'lzo':
      return (await import('./lzo.js')).decompressLzo1x;
    case 'xz':
      return (await import('./xz.js')).decompressXz;
    case 'lz4':
      return (await import('./lz4.js')).decompressLz4Block;
    case 'zstd':
      return (await import('./zstd.js')).decompressZstd;
  }
}
