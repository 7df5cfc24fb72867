/**
 * squashfs 4.0 reader: superblock and compressor options, every lookup table, the inode and
 * directory tables (each decompressed once, walked in memory without recursion), all 14 inode
 * types, xattrs (inline and out-of-line values), and for every regular file the exact position and
 * size of each data block and of its fragment. All six compressors (decompress/). The format:
 * docs/formats.md §1.
 *
 *   const img = openSquashfs(new FileSource(path));   // throws FormatError(file, offset) on bad input
 *   img.entries / img.lookup('/usr/bin/bash')           // depth-first, directory order, root first
 *   squashfsLayout(img, base)                           // Layout files + sorted, non-overlapping extents
 *   readFile(img, entry) / fileChunks(img, entry)       // file content (chunks: no 4 GiB limit)
 */
export { openSquashfs } from './open.js';
export { squashfsLayout } from './layout.js';
export { readFile, fileChunks } from './read-file.js';
export { SQUASHFS_MAGIC, FLAGS as SQUASHFS_FLAGS, type Superblock } from './superblock.js';
export type {
  DataBlock,
  FragmentRef,
  MetadataRegion,
  MetadataRegionKind,
  SquashfsEntry,
  SquashfsEntryType,
  SquashfsImage,
  Xattr,
} from './types.js';
