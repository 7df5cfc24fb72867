import type { ExtentKind } from '../layout.js';
import type { CompressorName } from '../decompress/names.js';
import type { Superblock } from './superblock.js';
import type { EntryTable } from './entry-table.js';

export type SquashfsEntryType = 'dir' | 'file' | 'symlink' | 'blockdev' | 'chardev' | 'fifo' | 'socket';

/** One data block of a regular file, as stored. */
export interface DataBlock {
  /** Absolute position in the squashfs (0 = superblock). Sparse blocks carry the position they would have. */
  offset: number;
  /** Size on disk (0 for a sparse block). */
  size: number;
  /** Stored without compression (size word bit 24). */
  uncompressed: boolean;
  /** A block of zeros that takes no space on disk (size word 0). */
  sparse: boolean;
}

/** Where a file's tail lives. */
export interface FragmentRef {
  /** Index in the fragment table. */
  index: number;
  /** Absolute position of the fragment block in the squashfs, and its size on disk. */
  blockOffset: number;
  blockSize: number;
  uncompressed: boolean;
  /** Offset of the tail inside the uncompressed fragment block. */
  offsetInBlock: number;
  /** Length of the tail (file size % block size). */
  length: number;
}

export interface Xattr {
  /** Full name with its prefix: "user.x", "security.capability". */
  name: string;
  value: Buffer;
}

export interface SquashfsEntry {
  /** "/" for the root, "/usr/bin/bash" below it. */
  path: string;
  type: SquashfsEntryType;
  /** inode_number: what the kernel reports as i_ino. */
  inode: number;
  /** squashfs inode type 1..14 (8..14 are the extended forms). */
  inodeType: number;
  /** Position of the inode in the uncompressed inode table (hardlinks share it). */
  inodeTableOffset: number;
  /** st_mode: the file type bits plus the stored permission bits. */
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  /** Bytes: file size, symlink target length, or directory listing size as stored (file_size). */
  size: number;
  nlink: number;
  symlinkTarget?: string;
  /** Device number as stored (Linux old/new encoding: major = (rdev >> 8) & 0xfff). */
  rdev?: number;
  xattrs?: Xattr[];
  /** Regular files: the data blocks, in file order. */
  blocks?: DataBlock[];
  /** Regular files whose tail is packed into a fragment block. */
  fragment?: FragmentRef;
  /** Extended regular inodes: bytes saved by sparse blocks, as mksquashfs recorded it. */
  sparseBytes?: number;
}

export interface SquashfsImage {
  /** Name used in errors (path of the image, plus the nesting). */
  readonly name: string;
  readonly superblock: Superblock;
  readonly compressor: CompressorName;
  readonly compressorOptions: Record<string, number> | undefined;
  readonly blockSize: number;
  /** Every inode reachable from the root, depth-first in directory order, root first. */
  readonly entries: SquashfsEntry[];
  /** The same entries as columns (same order): what the Layout is built from. */
  readonly table: EntryTable;
  /** Entry `i` of the table as an object (built once, on first use). */
  entry(i: number): SquashfsEntry;
  /** Exact path lookup, no symlink following. */
  lookup(path: string): SquashfsEntry | undefined;
  /** On-disk regions of the metadata, for the layout: [start, end) absolute in the squashfs. */
  readonly regions: MetadataRegion[];
  /** Fragment table entries: absolute position, size word (bit 24 = uncompressed). */
  readonly fragmentTable: { offset: number; size: number; uncompressed: boolean }[];
  /** Decompress one data or fragment block (used by readFile and by tests). */
  readBlock(offset: number, size: number, uncompressed: boolean, what: string): Buffer;
  /** Decompressed fragment block `index`; the last few are cached, as the kernel does. */
  readFragment(index: number): Buffer;
}

export type MetadataRegionKind = Extract<
  ExtentKind,
  'superblock' | 'compressor-options' | 'inode-table' | 'directory-table' | 'fragment-table' | 'export-table' | 'id-table' | 'xattr-table'
>;

export interface MetadataRegion {
  kind: MetadataRegionKind;
  start: number;
  end: number;
}
