import { FormatError } from '../../errors.js';
import { readU53, tooLarge } from './bytes.js';
import type { MetadataTable } from './metadata.js';
import { SUPERBLOCK_SIZE } from './superblock.js';
import type { DataBlock, FragmentRef, SquashfsEntry, SquashfsEntryType, Xattr } from './types.js';

/** Basic inode types 1..7; the extended form of type t is t + 7. */
export const INODE_TYPES: readonly SquashfsEntryType[] = ['dir', 'file', 'symlink', 'blockdev', 'chardev', 'fifo', 'socket'];
const S_IFMT_BITS: Readonly<Record<SquashfsEntryType, number>> = {
  dir: 0o040000,
  file: 0o100000,
  symlink: 0o120000,
  blockdev: 0o060000,
  chardev: 0o020000,
  fifo: 0o010000,
  socket: 0o140000,
};
const NO_FRAGMENT = 0xffffffff;
const NO_XATTR = 0xffffffff;
/** PATH_MAX: the kernel refuses longer symlink targets. */
const MAX_SYMLINK = 4096;
/** Data block size word: bit 24 = stored uncompressed, bits 0..23 = size on disk. */
const BLOCK_UNCOMPRESSED = 1 << 24;
const BLOCK_SIZE_MASK = BLOCK_UNCOMPRESSED - 1;

/** What the directory walk needs to list a directory. */
export interface DirectoryInfo {
  /** Directory table block (relative to the table start) and offset of the listing. */
  startBlock: number;
  offset: number;
  /** Bytes of listing (file_size - 3; file_size < 4 means empty). */
  listingSize: number;
  /** Number of index entries of an extended directory. */
  indexCount: number;
}

export interface InodeContext {
  file: string;
  table: MetadataTable;
  blockSize: number;
  /** End of the data area: data blocks must end at or before the inode table. */
  dataEnd: number;
  ids: Buffer;
  /** The same bytes (DataView reads are builtins: no number boxed before V8 optimizes the walk). */
  idView: DataView;
  idCount: number;
  fragments: { offset: number; size: number; uncompressed: boolean }[];
  xattrs: (index: number, refPos: number) => Xattr[];
}

/** Throws the FormatError of a bad inode: the disk position of its metadata block, and where it is inside the table. */
function inodeError(ctx: InodeContext, at: number, msg: string): never {
  throw new FormatError(ctx.file, ctx.table.diskPositionOf(at), `inode at inode-table byte ${at}: ${msg}`);
}

function needBytes(ctx: InodeContext, at: number, n: number): void {
  const length = ctx.table.bytes.length;
  if (at + n > length) inodeError(ctx, at, `needs ${n} bytes, the inode table ends after ${length - at}`);
}

/** Shared by every file without data blocks (most files are small): never mutated. */
const NO_BLOCKS: DataBlock[] = Object.freeze([]) as unknown as DataBlock[];

/**
 * One inode's fields as numbers, filled by readInode. The walk reuses one of these for every
 * inode, so validating 100k inodes allocates nothing; an entry object is built only on demand.
 */
export class InodeFields {
  inodeType = 0;
  inode = 0;
  size = 0;
  nlink = 1;
  /** Device number, or -1. */
  rdev = -1;
  /** Regular files: first block's position, block count, where the size words are in the table. */
  startBlock = 0;
  blockCount = 0;
  listAt = 0;
  /** Fragment index of the tail, or -1. */
  fragment = -1;
  fragmentOffset = 0;
  /** Extended regular files: sparse bytes, else -1. */
  sparseBytes = -1;
  /** Symlinks: where the target is in the table, and its length (-1: not a symlink). */
  targetAt = 0;
  targetLength = -1;
  xattrs: Xattr[] | undefined = undefined;
}

/**
 * Parse the inode at `at` in the uncompressed inode table. The path is filled in by the caller.
 * For a directory, `dirOut` receives where its listing is.
 */
export function parseInode(ctx: InodeContext, at: number, dirOut: DirectoryInfo): SquashfsEntry {
  const f = new InodeFields();
  readInode(ctx, at, dirOut, f);
  return entryOf(ctx, at, f);
}

/** The entry object for fields readInode filled (and checked). */
export function entryOf(ctx: InodeContext, at: number, f: InodeFields): SquashfsEntry {
  const type = INODE_TYPES[(f.inodeType - 1) % 7]!;
  const dv = ctx.table.view;
  const entry: SquashfsEntry = {
    path: '',
    type,
    inode: f.inode,
    inodeType: f.inodeType,
    inodeTableOffset: at,
    mode: S_IFMT_BITS[type] | (dv.getUint16(at + 2, true) & 0o7777),
    // ids and times from the table: readInode checked the id indexes
    uid: ctx.idView.getUint32(dv.getUint16(at + 4, true) * 4, true),
    gid: ctx.idView.getUint32(dv.getUint16(at + 6, true) * 4, true),
    mtime: dv.getUint32(at + 8, true),
    size: f.size,
    nlink: f.nlink,
  };
  const buf = ctx.table.bytes;
  if (f.targetLength >= 0) entry.symlinkTarget = buf.toString('utf8', f.targetAt, f.targetAt + f.targetLength);
  if (f.rdev >= 0) entry.rdev = f.rdev;
  if (type === 'file') {
    if (f.sparseBytes >= 0) entry.sparseBytes = f.sparseBytes;
    const blocks: DataBlock[] = f.blockCount === 0 ? NO_BLOCKS : new Array<DataBlock>(f.blockCount);
    let pos = f.startBlock;
    for (let i = 0; i < f.blockCount; i++) {
      const word = buf.readUInt32LE(f.listAt + i * 4);
      const size = word & BLOCK_SIZE_MASK;
      blocks[i] = { offset: pos, size, uncompressed: size !== 0 && (word & BLOCK_UNCOMPRESSED) !== 0, sparse: size === 0 };
      pos += size;
    }
    entry.blocks = blocks;
    const frag = f.fragment >= 0 ? ctx.fragments[f.fragment] : undefined;
    if (frag) {
      entry.fragment = {
        index: f.fragment,
        blockOffset: frag.offset,
        blockSize: frag.size,
        uncompressed: frag.uncompressed,
        offsetInBlock: f.fragmentOffset,
        length: f.size % ctx.blockSize,
      } satisfies FragmentRef;
    }
  }
  if (f.xattrs && f.xattrs.length > 0) entry.xattrs = f.xattrs;
  return entry;
}

/** Read and check the inode at `at` into `f` (every field reset). Throws FormatError on a bad inode. */
export function readInode(ctx: InodeContext, at: number, dirOut: DirectoryInfo, f: InodeFields): void {
  const buf = ctx.table.bytes;
  const dv = ctx.table.view;
  needBytes(ctx, at, 16);
  const inodeType = dv.getUint16(at, true);
  if (inodeType < 1 || inodeType > 14) inodeError(ctx, at, `unknown inode type ${inodeType}`);
  const extended = inodeType > 7;
  const uidIndex = dv.getUint16(at + 4, true);
  const gidIndex = dv.getUint16(at + 6, true);
  if (uidIndex >= ctx.idCount || gidIndex >= ctx.idCount) {
    inodeError(ctx, at, `uid/gid index ${uidIndex}/${gidIndex} past the id table (${ctx.idCount} ids)`);
  }
  f.inodeType = inodeType;
  f.inode = dv.getUint32(at + 12, true);
  f.size = 0;
  f.nlink = 1;
  f.rdev = -1;
  f.startBlock = 0;
  f.blockCount = 0;
  f.listAt = 0;
  f.fragment = -1;
  f.fragmentOffset = 0;
  f.sparseBytes = -1;
  f.targetAt = 0;
  f.targetLength = -1;
  f.xattrs = undefined;
  let xattrIndex = NO_XATTR;
  let xattrPos = 0;
  const p = at + 16;
  switch (inodeType) {
    case 1: {
      needBytes(ctx, at, 32);
      const fileSize = dv.getUint16(p + 8, true);
      dirOut.startBlock = dv.getUint32(p, true);
      dirOut.offset = dv.getUint16(p + 10, true);
      dirOut.listingSize = Math.max(0, fileSize - 3);
      dirOut.indexCount = 0;
      f.nlink = dv.getUint32(p + 4, true);
      f.size = fileSize;
      break;
    }
    case 8: {
      needBytes(ctx, at, 40);
      const fileSize = dv.getUint32(p + 4, true);
      const indexCount = dv.getUint16(p + 16, true);
      dirOut.startBlock = dv.getUint32(p + 8, true);
      dirOut.offset = dv.getUint16(p + 18, true);
      dirOut.listingSize = Math.max(0, fileSize - 3);
      dirOut.indexCount = indexCount;
      f.nlink = dv.getUint32(p, true);
      f.size = fileSize;
      xattrIndex = dv.getUint32(p + 20, true);
      xattrPos = p + 20;
      // Index entries: u32 index, u32 start_block, u32 size, name[size + 1]. Walked to bound them.
      let q = at + 40;
      for (let i = 0; i < indexCount; i++) {
        if (q + 12 > buf.length) inodeError(ctx, at, `directory index entry ${i} runs past the inode table`);
        const nameLength = dv.getUint32(q + 8, true) + 1;
        if (nameLength > 256) inodeError(ctx, at, `directory index entry ${i} has a name of ${nameLength} bytes`);
        if (dv.getUint32(q, true) > fileSize) inodeError(ctx, at, `directory index entry ${i} points past the listing`);
        q += 12 + nameLength;
        if (q > buf.length) inodeError(ctx, at, `directory index entry ${i} runs past the inode table`);
      }
      break;
    }
    case 2:
    case 9:
      readRegular(ctx, f, at, extended);
      if (extended) {
        xattrIndex = dv.getUint32(at + 52, true);
        xattrPos = at + 52;
      }
      break;
    case 3:
    case 10: {
      needBytes(ctx, at, 24);
      f.nlink = dv.getUint32(p, true);
      const length = dv.getUint32(p + 4, true);
      if (length > MAX_SYMLINK) inodeError(ctx, at, `symlink target of ${length} bytes`);
      needBytes(ctx, at, 24 + length + (extended ? 4 : 0));
      f.size = length;
      f.targetAt = at + 24;
      f.targetLength = length;
      if (extended) {
        xattrIndex = dv.getUint32(at + 24 + length, true);
        xattrPos = at + 24 + length;
      }
      break;
    }
    case 4:
    case 5:
    case 11:
    case 12:
      needBytes(ctx, at, extended ? 28 : 24);
      f.nlink = dv.getUint32(p, true);
      f.rdev = dv.getUint32(p + 4, true);
      if (extended) {
        xattrIndex = dv.getUint32(p + 8, true);
        xattrPos = p + 8;
      }
      break;
    default:
      // 6, 7, 13, 14: fifo and socket
      needBytes(ctx, at, extended ? 24 : 20);
      f.nlink = dv.getUint32(p, true);
      if (extended) {
        xattrIndex = dv.getUint32(p + 4, true);
        xattrPos = p + 4;
      }
  }
  if (xattrIndex !== NO_XATTR) f.xattrs = ctx.xattrs(xattrIndex, ctx.table.diskPositionOf(xattrPos));
}

function readRegular(ctx: InodeContext, f: InodeFields, at: number, extended: boolean): void {
  const buf = ctx.table.bytes;
  const dv = ctx.table.view;
  const headerSize = extended ? 56 : 32;
  if (at + headerSize > buf.length) inodeError(ctx, at, `needs ${headerSize} bytes, the inode table ends after ${buf.length - at}`);
  let startBlock: number;
  let fileSize: number;
  let fragmentIndex: number;
  let fragmentOffset: number;
  if (extended) {
    startBlock = inodeU53(ctx, at, at + 16, 'start_block');
    fileSize = inodeU53(ctx, at, at + 24, 'file_size');
    f.sparseBytes = inodeU53(ctx, at, at + 32, 'sparse');
    f.nlink = dv.getUint32(at + 40, true);
    fragmentIndex = dv.getUint32(at + 44, true);
    fragmentOffset = dv.getUint32(at + 48, true);
  } else {
    startBlock = dv.getUint32(at + 16, true);
    fragmentIndex = dv.getUint32(at + 20, true);
    fragmentOffset = dv.getUint32(at + 24, true);
    fileSize = dv.getUint32(at + 28, true);
  }
  f.size = fileSize;
  const bs = ctx.blockSize;
  const hasFragment = fragmentIndex !== NO_FRAGMENT;
  const blockCount = hasFragment ? Math.floor(fileSize / bs) : Math.ceil(fileSize / bs);
  const listAt = at + headerSize;
  // The block list is in the inode table, so a hostile file size fails here, before any allocation.
  if (listAt + blockCount * 4 > buf.length) inodeError(ctx, at, `file of ${fileSize} bytes needs ${blockCount} block sizes, past the end of the inode table`);
  let pos = startBlock;
  for (let i = 0; i < blockCount; i++) {
    const word = dv.getUint32(listAt + i * 4, true);
    if (word >>> 25 !== 0) inodeError(ctx, at, `block ${i} size word 0x${word.toString(16)} has unknown bits`);
    const size = word & BLOCK_SIZE_MASK;
    if (size > bs) inodeError(ctx, at, `block ${i} is ${size} bytes on disk, more than the block size ${bs}`);
    if (size !== 0 && (pos < SUPERBLOCK_SIZE || pos + size > ctx.dataEnd)) {
      inodeError(ctx, at, `block ${i} at ${pos} (+${size}) is outside the data area [${SUPERBLOCK_SIZE}, ${ctx.dataEnd})`);
    }
    pos += size;
  }
  f.startBlock = startBlock;
  f.blockCount = blockCount;
  f.listAt = listAt;
  if (hasFragment) {
    const tail = fileSize % bs;
    const frag = ctx.fragments[fragmentIndex];
    if (frag === undefined) inodeError(ctx, at, `fragment index ${fragmentIndex} past the fragment table (${ctx.fragments.length} entries)`);
    else if (tail === 0) inodeError(ctx, at, `has fragment ${fragmentIndex} but no tail (size ${fileSize} is a multiple of the block size)`);
    else if (fragmentOffset + tail > bs) inodeError(ctx, at, `tail of ${tail} bytes at offset ${fragmentOffset} runs past the ${bs}-byte fragment block`);
    else {
      f.fragment = fragmentIndex;
      f.fragmentOffset = fragmentOffset;
    }
  }
}

function inodeU53(ctx: InodeContext, at: number, pos: number, what: string): number {
  return readU53(ctx.table.bytes, pos) ?? inodeError(ctx, at, tooLarge(ctx.table.bytes, pos, what));
}
