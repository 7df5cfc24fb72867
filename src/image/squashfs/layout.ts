import { FormatError } from '../../errors.js';
import type { Extent, LayoutFile } from '../layout.js';
import type { EntryTable } from './entry-table.js';
import { IntMap } from './int-map.js';
import type { SquashfsImage } from './types.js';

/** Data block size word: bit 24 = stored uncompressed, bits 0..23 = size on disk. */
const BLOCK_UNCOMPRESSED = 1 << 24;
const BLOCK_SIZE_MASK = BLOCK_UNCOMPRESSED - 1;

/**
 * The squashfs part of a Layout: regular files (in entry order) and every extent, with offsets
 * shifted by `base` (where the squashfs starts in the outer image). Files whose data another file
 * already owns (hardlinks, duplicates) get `sameDataAs` and no extents.
 */
export function squashfsLayout(img: SquashfsImage, base: number): { files: LayoutFile[]; extents: Extent[] } {
  const { files, extents } = squashfsLayoutColumns(img, base);
  return { files: layoutFilesOf(img.table, files), extents };
}

/** The Layout's squashfs files as columns: entry row of each file, and the file it shares data with. */
export interface SquashfsFileColumns {
  readonly count: number;
  readonly row: Int32Array;
  /**
   * 1 + the index of the file whose data file i shares (its Layout `sameDataAs`), 0: none. Zero
   * for none: a fresh typed array is zeros already, and its pages cost memory only where a
   * duplicate is written (filled with -1, 100k files touched 400 kB).
   */
  readonly sharesWith: Int32Array;
}

/** LayoutFile objects for file columns (what Layout.files holds). */
export function layoutFilesOf(t: EntryTable, c: SquashfsFileColumns): LayoutFile[] {
  const files = new Array<LayoutFile>(c.count);
  for (let i = 0; i < c.count; i++) {
    const row = c.row[i]!;
    const file: LayoutFile = { path: t.pathOf(row), layer: 'squashfs', size: t.size(row), inode: t.inode(row) };
    if (c.sharesWith[i]! > 0) file.sameDataAs = c.sharesWith[i]! - 1;
    files[i] = file;
  }
  return files;
}

/** squashfsLayout with the files as columns: no object or path string per file. */
export function squashfsLayoutColumns(img: SquashfsImage, base: number): { files: SquashfsFileColumns; extents: Extent[] } {
  const t = img.table;
  const count = t.files;
  const files = { count, row: new Int32Array(count), sharesWith: new Int32Array(count) };
  const extents: Extent[] = [];
  // Hardlinks share an inode; duplicates share their first block (or their tail's place in a
  // fragment). Integer keys in typed-array maps: string keys, or a Map, cost more than the rest
  // of the layout for 100k files.
  // Each sized for the files that can use it (a table of 100k slots is 3 MB); the walk counted them.
  const linked = t.linkedFiles;
  const withBlocks = t.filesWithBlocks;
  const tails = t.tailOnlyFiles;
  const byInode = new IntMap(linked);
  const keyOf = (row: number): number => (t.hasBlocks(row) ? t.startBlock(row) : t.fragment(row) * img.blockSize + t.fragmentOffset(row));
  // The keys of the files seen so far that own their data, for a map built late (see IncreasingKeys).
  const replay = (withData: boolean) => (map: IntMap, before: number): void => {
    for (let j = 0; j < before; j++) {
      const row = files.row[j]!;
      if (files.sharesWith[j]! > 0 || t.hasBlocks(row) !== withData || (!withData && t.fragment(row) < 0)) continue;
      const key = keyOf(row);
      if (map.get(key) === undefined) map.set(key, j);
    }
  };
  const byFirstBlock = new IncreasingKeys(withBlocks, replay(true));
  const byTail = new IncreasingKeys(tails, replay(false));
  const fragmentOwners: number[][] = img.fragmentTable.map(() => []);
  const rowOf = files.row;
  const words = t.inodeBytes;

  let index = -1;
  for (let row = 0; row < t.length; row++) {
    if (t.type[row] !== 2) continue;
    index++;
    rowOf[index] = row;
    if (t.linked(row)) {
      const sameInode = byInode.get(t.at[row]!);
      if (sameInode !== undefined) {
        files.sharesWith[index] = sameInode + 1;
        continue;
      }
      byInode.set(t.at[row]!, index);
    }
    const count = t.blockCount(row);
    const fragment = t.fragment(row);
    const map = count > 0 ? byFirstBlock : fragment >= 0 ? byTail : undefined;
    if (map) {
      // a tail lies inside its block (offset + length <= block size): fragment * block size + offset is unique and small
      const key = keyOf(row);
      const candidate = map.get(key, index);
      if (candidate !== undefined && sameData(t, rowOf[candidate]!, row)) {
        files.sharesWith[index] = candidate + 1;
        continue;
      }
      if (candidate === undefined) map.set(key, index);
    }
    let pos = count > 0 ? t.startBlock(row) : 0;
    const listAt = t.listAt(row);
    for (let i = 0; i < count; i++) {
      const word = words.readUInt32LE(listAt + i * 4);
      const size = word & BLOCK_SIZE_MASK;
      // a sparse block (size 0) takes no space
      if (size !== 0) extents.push({ start: base + pos, length: size, kind: 'data-block', file: index, block: i, uncompressed: (word & BLOCK_UNCOMPRESSED) !== 0 });
      pos += size;
    }
    if (fragment >= 0) fragmentOwners[fragment]!.push(index);
  }

  img.fragmentTable.forEach((f, i) => {
    extents.push({ start: base + f.offset, length: f.size, kind: 'fragment-block', files: fragmentOwners[i]!, fragment: i, uncompressed: f.uncompressed });
  });

  // Metadata regions: adjacent pieces of one table become one extent.
  let last: Extent | undefined;
  for (const r of img.regions) {
    if (last && last.kind === r.kind && r.start + base <= last.start + last.length) {
      last.length = Math.max(last.length, r.end + base - last.start);
      continue;
    }
    last = { start: base + r.start, length: r.end - r.start, kind: r.kind };
    extents.push(last);
  }

  extents.sort((a, b) => a.start - b.start || a.length - b.length);
  return { files, extents: removeSharedBlocks(extents, img.name, base) };
}

/**
 * Duplicate detection by key, for keys that mostly come in increasing order: mksquashfs writes
 * data blocks and fills fragments in the order of the walk, so a key above every earlier one is
 * new without a lookup, and the map (3 MB for 100k files) is built, from every earlier file, only
 * when a key is not (a duplicate, or another tool's order).
 */
class IncreasingKeys {
  private largest = -1;
  private map: IntMap | undefined;
  constructor(
    private readonly capacity: number,
    private readonly replay: (map: IntMap, before: number) => void,
  ) {}

  /** The file that first had `key`, for file `index` (every file before it was set or skipped). */
  get(key: number, index: number): number | undefined {
    if (this.map === undefined) {
      if (key > this.largest) return undefined;
      this.map = new IntMap(this.capacity);
      this.replay(this.map, index);
    }
    return this.map.get(key);
  }

  /** Called only when get gave undefined. */
  set(key: number, value: number): void {
    if (this.map === undefined) this.largest = key;
    else this.map.set(key, value);
  }
}

/** Same size, same blocks, same tail: the second file stores nothing of its own. */
function sameData(t: EntryTable, a: number, b: number): boolean {
  const count = t.blockCount(a);
  if (t.size(a) !== t.size(b) || count !== t.blockCount(b)) return false;
  if (count > 0 && t.startBlock(a) !== t.startBlock(b)) return false;
  const words = t.inodeBytes;
  for (let i = 0; i < count; i++) {
    // same first position and same sizes give the same positions
    if ((words.readUInt32LE(t.listAt(a) + i * 4) & BLOCK_SIZE_MASK) !== (words.readUInt32LE(t.listAt(b) + i * 4) & BLOCK_SIZE_MASK)) return false;
  }
  const af = t.fragment(a);
  const bf = t.fragment(b);
  if (af < 0 || bf < 0) return af === bf;
  return af === bf && t.fragmentOffset(a) === t.fragmentOffset(b);
}

/**
 * Extents must not overlap. A data block that several files list (tools that deduplicate runs of
 * blocks) is kept once, with every owner in `files`; any other overlap is a malformed image.
 */
function removeSharedBlocks(sorted: Extent[], name: string, base: number): Extent[] {
  const out: Extent[] = [];
  for (const e of sorted) {
    const prev = out[out.length - 1];
    if (prev && e.start < prev.start + prev.length) {
      if (prev.kind === 'data-block' && e.kind === 'data-block' && prev.start === e.start && prev.length === e.length) {
        prev.files ??= [prev.file!];
        prev.fileBlocks ??= [prev.block!];
        prev.files.push(e.file!);
        prev.fileBlocks.push(e.block!);
        continue;
      }
      throw new FormatError(name, e.start - base, `${describe(e)} overlaps ${describe(prev)} at ${prev.start - base} (+${prev.length})`);
    }
    out.push(e);
  }
  return out;
}

function describe(e: Extent): string {
  if (e.kind === 'data-block') return `data block ${e.block} of file #${e.file}`;
  if (e.kind === 'fragment-block') return `fragment block ${e.fragment}`;
  return e.kind;
}
