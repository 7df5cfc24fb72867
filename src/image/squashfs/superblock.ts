import { FormatError, UnsupportedError } from '../../errors.js';
import type { ByteSource } from '../source.js';
import { COMPRESSOR_NAMES, type CompressorName } from '../decompress/names.js';
import { NO_TABLE, readU64 } from './bytes.js';

export const SQUASHFS_MAGIC = 0x73717368;
export const SUPERBLOCK_SIZE = 96;

/** Superblock flag bits (squashfs_fs.h; docs/formats.md §1.1). */
export const FLAGS = {
  inodesUncompressed: 1 << 0,
  dataUncompressed: 1 << 1,
  fragmentsUncompressed: 1 << 3,
  noFragments: 1 << 4,
  alwaysFragments: 1 << 5,
  duplicates: 1 << 6,
  exportable: 1 << 7,
  xattrsUncompressed: 1 << 8,
  noXattrs: 1 << 9,
  compressorOptions: 1 << 10,
} as const;

export interface Superblock {
  inodes: number;
  mkfsTime: number;
  blockSize: number;
  blockLog: number;
  fragments: number;
  compressionId: number;
  compressor: CompressorName;
  flags: number;
  idCount: number;
  major: number;
  minor: number;
  /** Inode reference of the root directory: (block << 16) | offset. */
  rootInode: number;
  bytesUsed: number;
  idTableStart: number;
  /** NO_TABLE (-1) when absent, for this and the two pointers below it. */
  xattrIdTableStart: number;
  inodeTableStart: number;
  directoryTableStart: number;
  fragmentTableStart: number;
  exportTableStart: number;
}

export function parseSuperblock(src: ByteSource): Superblock {
  const name = src.name;
  if (src.size < SUPERBLOCK_SIZE) {
    throw new FormatError(name, 0, `image of ${src.size} bytes is smaller than a squashfs superblock`);
  }
  const b = src.read(0, SUPERBLOCK_SIZE);
  const magic = b.readUInt32LE(0);
  if (magic !== SQUASHFS_MAGIC) {
    throw new FormatError(name, 0, `bad squashfs magic 0x${magic.toString(16).padStart(8, '0')}`);
  }
  const major = b.readUInt16LE(28);
  const minor = b.readUInt16LE(30);
  if (major !== 4 || minor !== 0) throw new UnsupportedError(`${name}: squashfs ${major}.${minor} (only 4.0 is supported)`);
  const blockSize = b.readUInt32LE(12);
  const blockLog = b.readUInt16LE(22);
  if (blockSize < 4096 || blockSize > 1 << 20 || (blockSize & (blockSize - 1)) !== 0) {
    throw new FormatError(name, 12, `block size ${blockSize} is not a power of two in 4 KiB..1 MiB`);
  }
  if (1 << blockLog !== blockSize) throw new FormatError(name, 22, `block_log ${blockLog} does not match block size ${blockSize}`);
  const compressionId = b.readUInt16LE(20);
  const compressor = COMPRESSOR_NAMES[compressionId];
  if (compressor === undefined) throw new FormatError(name, 20, `unknown compressor id ${compressionId}`);

  const u64 = (pos: number, what: string): number => readU64(b, pos, name, pos, what);
  const sb: Superblock = {
    inodes: b.readUInt32LE(4),
    mkfsTime: b.readUInt32LE(8),
    blockSize,
    blockLog,
    fragments: b.readUInt32LE(16),
    compressionId,
    compressor,
    flags: b.readUInt16LE(24),
    idCount: b.readUInt16LE(26),
    major,
    minor,
    rootInode: u64(32, 'root inode reference'),
    bytesUsed: u64(40, 'bytes_used'),
    idTableStart: u64(48, 'id table start'),
    xattrIdTableStart: u64(56, 'xattr id table start'),
    inodeTableStart: u64(64, 'inode table start'),
    directoryTableStart: u64(72, 'directory table start'),
    fragmentTableStart: u64(80, 'fragment table start'),
    exportTableStart: u64(88, 'export table start'),
  };
  checkSuperblock(sb, src);
  return sb;
}

function checkSuperblock(sb: Superblock, src: ByteSource): void {
  const name = src.name;
  if (sb.bytesUsed === NO_TABLE || sb.bytesUsed < SUPERBLOCK_SIZE) {
    throw new FormatError(name, 40, `bytes_used ${sb.bytesUsed} is smaller than the superblock`);
  }
  if (sb.bytesUsed > src.size) {
    throw new FormatError(name, 40, `bytes_used ${sb.bytesUsed} is past the end of the image (${src.size} bytes): truncated?`);
  }
  const inside = (value: number, field: number, what: string, optional: boolean): void => {
    if (value === NO_TABLE && optional) return;
    if (value < SUPERBLOCK_SIZE || value >= sb.bytesUsed) {
      throw new FormatError(name, field, `${what} ${value} is outside the image data [${SUPERBLOCK_SIZE}, ${sb.bytesUsed})`);
    }
  };
  inside(sb.inodeTableStart, 64, 'inode table start', false);
  inside(sb.directoryTableStart, 72, 'directory table start', false);
  inside(sb.idTableStart, 48, 'id table start', false);
  inside(sb.fragmentTableStart, 80, 'fragment table start', true);
  inside(sb.exportTableStart, 88, 'export table start', true);
  inside(sb.xattrIdTableStart, 56, 'xattr id table start', true);
  if (sb.directoryTableStart <= sb.inodeTableStart) {
    throw new FormatError(name, 72, `directory table start ${sb.directoryTableStart} is not after the inode table start ${sb.inodeTableStart}`);
  }
  if (sb.rootInode === NO_TABLE) throw new FormatError(name, 32, 'root inode reference is missing');
  if (sb.idCount === 0) throw new FormatError(name, 26, 'id table is empty (every inode needs a uid and gid)');
  if (sb.fragments > 0 && sb.fragmentTableStart === NO_TABLE) {
    throw new FormatError(name, 16, `${sb.fragments} fragments but no fragment table`);
  }
  // Every fragment entry points at its own block of at least one byte in the data area.
  if (sb.fragments > sb.inodeTableStart) {
    throw new FormatError(name, 16, `fragment count ${sb.fragments} cannot fit before the inode table at ${sb.inodeTableStart}`);
  }
}

export interface CompressorOptions {
  /** Where the options block sits (always right after the superblock) and its size on disk. */
  offset: number;
  diskLength: number;
  values: Record<string, number>;
}

/** Decode the compressor-specific options payload (format.adoc §3.1). */
export function decodeCompressorOptions(
  compressor: CompressorName,
  payload: Buffer,
  file: string,
  offset: number,
): Record<string, number> {
  const need = (n: number): void => {
    if (payload.length < n) throw new FormatError(file, offset, `${compressor} options need ${n} bytes, block has ${payload.length}`);
  };
  switch (compressor) {
    case 'gzip':
      need(8);
      return { level: payload.readUInt32LE(0), windowSize: payload.readUInt16LE(4), strategies: payload.readUInt16LE(6) };
    case 'xz':
      need(8);
      return { dictionarySize: payload.readUInt32LE(0), filters: payload.readUInt32LE(4) };
    case 'lz4': {
      need(8);
      const version = payload.readUInt32LE(0);
      if (version !== 1) throw new FormatError(file, offset, `lz4 format version ${version} (only the legacy format 1 exists)`);
      return { version, flags: payload.readUInt32LE(4) };
    }
    case 'zstd':
      need(4);
      return { level: payload.readUInt32LE(0) };
    case 'lzo':
      need(8);
      return { algorithm: payload.readUInt32LE(0), level: payload.readUInt32LE(4) };
    case 'lzma':
      return {};
  }
}
