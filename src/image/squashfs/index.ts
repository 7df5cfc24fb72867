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
