/** The compressor names squashfs knows. */
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
