import { FormatError } from '../../errors.js';
import type { ByteSource } from '../source.js';
import type { CompressorName } from '../decompress/names.js';
import type { Decompressor } from '../decompress/types.js';
import { ZlibInflater } from '../decompress/zlib-into.js';
import { NO_TABLE, readU64 } from './bytes.js';
import { walkTree } from './entry-table.js';
import { entryOf, InodeFields, readInode, type DirectoryInfo, type InodeContext } from './inode.js';
import { readLookupTable, type LookupTable } from './lookup-table.js';
import { BlockReader, MetadataTable } from './metadata.js';
import { FLAGS, SUPERBLOCK_SIZE, decodeCompressorOptions, parseSuperblock } from './superblock.js';
import type { MetadataRegion, SquashfsEntry, SquashfsImage } from './types.js';
import { XattrReader } from './xattr.js';

/** The smallest inode (fifo/socket, basic) is 20 bytes: bounds the superblock's inode count. */
const MIN_INODE_SIZE = 20;
const FRAGMENT_UNCOMPRESSED = 1 << 24;
const FRAGMENT_CACHE_SIZE = 3;

/**
 * Parse a squashfs 4.0 image: superblock, compressor options, lookup tables, then the inode and
 * directory tables, each decompressed once and walked in memory. `decompressorFor` gives the
 * image's decompressor (open.ts: any of the six; open-lazy.ts: the one module it loaded).
 */
export function openSquashfsWith(src: ByteSource, decompressorFor: (name: CompressorName) => Decompressor): SquashfsImage {
  const name = src.name;
  const sb = parseSuperblock(src);
  const reader = new BlockReader(src, decompressorFor(sb.compressor), sb.bytesUsed, sb.compressor === 'gzip' ? new ZlibInflater() : undefined);
  const regions: MetadataRegion[] = [{ kind: 'superblock', start: 0, end: SUPERBLOCK_SIZE }];

  let compressorOptions: Record<string, number> | undefined;
  if (sb.flags & FLAGS.compressorOptions) {
    const { data, diskLength } = reader.readMetadataBlock(SUPERBLOCK_SIZE, 'compressor options');
    compressorOptions = decodeCompressorOptions(sb.compressor, data, name, SUPERBLOCK_SIZE);
    regions.push({ kind: 'compressor-options', start: SUPERBLOCK_SIZE, end: SUPERBLOCK_SIZE + diskLength });
  }

  const ids = readLookupTable(reader, 'id table', sb.idTableStart, sb.idCount, 4, true);
  addLookupRegions(regions, 'id-table', ids, 0);

  const fragmentTable: SquashfsImage['fragmentTable'] = [];
  let fragments: LookupTable | undefined;
  if (sb.fragments > 0) {
    fragments = readLookupTable(reader, 'fragment table', sb.fragmentTableStart, sb.fragments, 16, true);
    addLookupRegions(regions, 'fragment-table', fragments, 0);
    for (let i = 0; i < sb.fragments; i++) {
      const pos = fragments.blocks[Math.floor((i * 16) / 8192)]!.pos;
      const offset = readU64(fragments.bytes, i * 16, name, pos, `fragment ${i} start`);
      const word = fragments.bytes.readUInt32LE(i * 16 + 8);
      const size = word & (FRAGMENT_UNCOMPRESSED - 1);
      if (word >>> 25 !== 0 || size === 0 || size > sb.blockSize) {
        throw new FormatError(name, pos, `fragment ${i}: size word 0x${word.toString(16)} is not a block of 1..${sb.blockSize} bytes`);
      }
      if (offset < SUPERBLOCK_SIZE || offset + size > sb.inodeTableStart) {
        throw new FormatError(name, pos, `fragment ${i}: block at ${offset} (+${size}) is outside the data area`);
      }
      fragmentTable.push({ offset, size, uncompressed: (word & FRAGMENT_UNCOMPRESSED) !== 0 });
    }
  }

  let xattrIds: LookupTable | undefined;
  let xattrKvStart = NO_TABLE;
  if (sb.xattrIdTableStart !== NO_TABLE) {
    if (sb.xattrIdTableStart + 16 > sb.bytesUsed) throw new FormatError(name, sb.xattrIdTableStart, 'xattr id table header runs past the end');
    const header = src.read(sb.xattrIdTableStart, 16);
    xattrKvStart = readU64(header, 0, name, sb.xattrIdTableStart, 'xattr table start');
    const count = header.readUInt32LE(8);
    if (count > 0) {
      if (xattrKvStart === NO_TABLE || xattrKvStart < SUPERBLOCK_SIZE || xattrKvStart >= sb.xattrIdTableStart) {
        throw new FormatError(name, sb.xattrIdTableStart, `xattr key/value table start ${xattrKvStart} is not before the xattr id table`);
      }
      xattrIds = readLookupTable(reader, 'xattr id table', sb.xattrIdTableStart + 16, count, 16, true);
      addLookupRegions(regions, 'xattr-table', xattrIds, 16);
    } else {
      regions.push({ kind: 'xattr-table', start: sb.xattrIdTableStart, end: sb.xattrIdTableStart + 16 });
    }
  }

  // A table ends where the next known structure starts.
  const starts = [sb.bytesUsed, sb.idTableStart, ids.blocks[0]?.pos ?? NO_TABLE, sb.fragmentTableStart, sb.exportTableStart, sb.xattrIdTableStart, xattrKvStart];
  if (fragments) starts.push(fragments.blocks[0]?.pos ?? NO_TABLE);
  if (xattrIds) starts.push(xattrIds.blocks[0]?.pos ?? NO_TABLE);
  let exportFirstBlock = NO_TABLE;
  if (sb.exportTableStart !== NO_TABLE) {
    // Where the export table's blocks begin, known before we trust the inode count.
    const first = src.read(sb.exportTableStart, 8);
    exportFirstBlock = readU64(first, 0, name, sb.exportTableStart, 'export table block position');
    starts.push(exportFirstBlock);
  }
  const nextStart = (after: number): number => {
    let best = sb.bytesUsed;
    for (const s of starts) if (s !== NO_TABLE && s > after && s < best) best = s;
    return best;
  };

  const inodeTable = new MetadataTable(reader, sb.inodeTableStart, sb.directoryTableStart, 'inode table');
  regions.push({ kind: 'inode-table', start: sb.inodeTableStart, end: inodeTable.end });
  const directoryTable = new MetadataTable(reader, sb.directoryTableStart, nextStart(sb.directoryTableStart), 'directory table');
  regions.push({ kind: 'directory-table', start: sb.directoryTableStart, end: directoryTable.end });

  if (sb.inodes * MIN_INODE_SIZE > inodeTable.bytes.length) {
    throw new FormatError(name, 4, `${sb.inodes} inodes cannot fit in an inode table of ${inodeTable.bytes.length} bytes`);
  }
  if (sb.exportTableStart !== NO_TABLE) {
    const exportTable = readLookupTable(reader, 'export table', sb.exportTableStart, sb.inodes, 8, false);
    addLookupRegions(regions, 'export-table', exportTable, 0);
  }

  let xattrReader: XattrReader | undefined;
  if (xattrIds) {
    const kv = new MetadataTable(reader, xattrKvStart, nextStart(xattrKvStart), 'xattr table');
    regions.push({ kind: 'xattr-table', start: xattrKvStart, end: kv.end });
    xattrReader = new XattrReader(name, xattrIds, kv);
  }

  const ctx: InodeContext = {
    file: name,
    table: inodeTable,
    blockSize: sb.blockSize,
    dataEnd: sb.inodeTableStart,
    ids: ids.bytes,
    idView: new DataView(ids.bytes.buffer, ids.bytes.byteOffset, ids.bytes.byteLength),
    idCount: sb.idCount,
    fragments: fragmentTable,
    xattrs: (index, refPos) => {
      if (!xattrReader) throw new FormatError(name, refPos, `inode refers to xattr set ${index} but the image has no xattr table`);
      return xattrReader.get(index, refPos);
    },
  };
  const rootAt = inodeTable.resolve(Math.floor(sb.rootInode / 65536), sb.rootInode % 65536, name, 32, 'root inode');
  const table = walkTree(ctx, rootAt, directoryTable, sb.inodes);
  regions.sort((a, b) => a.start - b.start);

  // Entry objects are built on demand (most commands need a few, or none): the walk keeps columns.
  const built: (SquashfsEntry | undefined)[] = [];
  const scratch = new InodeFields();
  const scratchDir: DirectoryInfo = { startBlock: 0, offset: 0, listingSize: 0, indexCount: 0 };
  const entry = (i: number): SquashfsEntry => {
    let e = built[i];
    if (e === undefined) {
      const at = table.at[i]!;
      readInode(ctx, at, scratchDir, scratch);
      e = entryOf(ctx, at, scratch);
      e.path = table.pathOf(i);
      built[i] = e;
    }
    return e;
  };
  let entries: SquashfsEntry[] | undefined;
  // Small files share fragment blocks: reading them in order would decompress each block many times.
  const fragmentCache = new Map<number, Buffer>();
  const readBlock = (offset: number, size: number, uncompressed: boolean, what: string): Buffer => {
    if (offset < 0 || offset + size > sb.bytesUsed) throw new FormatError(name, offset, `${what}: block of ${size} bytes outside the image`);
    return reader.inflate(src.read(offset, size), !uncompressed, sb.blockSize, offset, what);
  };
  return {
    name,
    superblock: sb,
    compressor: sb.compressor,
    compressorOptions,
    blockSize: sb.blockSize,
    get entries(): SquashfsEntry[] {
      if (entries === undefined) {
        entries = new Array<SquashfsEntry>(table.length);
        for (let i = 0; i < table.length; i++) entries[i] = entry(i);
      }
      return entries;
    },
    table,
    entry,
    regions,
    fragmentTable,
    lookup(path: string): SquashfsEntry | undefined {
      const i = table.find(path);
      return i < 0 ? undefined : entry(i);
    },
    readBlock,
    readFragment(index: number): Buffer {
      const cached = fragmentCache.get(index);
      if (cached) return cached;
      const f = fragmentTable[index];
      if (f === undefined) throw new FormatError(name, undefined, `fragment ${index} does not exist (${fragmentTable.length} fragments)`);
      const data = readBlock(f.offset, f.size, f.uncompressed, `fragment ${index}`);
      if (fragmentCache.size >= FRAGMENT_CACHE_SIZE) fragmentCache.delete(fragmentCache.keys().next().value as number);
      fragmentCache.set(index, data);
      return data;
    },
  };
}

function addLookupRegions(regions: MetadataRegion[], kind: MetadataRegion['kind'], table: LookupTable, headerSize: number): void {
  for (const b of table.blocks) regions.push({ kind, start: b.pos, end: b.pos + b.diskLength });
  regions.push({ kind, start: table.indexStart - headerSize, end: table.indexStart + table.blocks.length * 8 });
}
