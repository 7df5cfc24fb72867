import { FormatError } from '../../errors.js';
import { CHILD_WORDS, NAME_NOT_PLAIN, readDirectory } from './directory.js';
import { INODE_TYPES, InodeFields, readInode, type DirectoryInfo, type InodeContext } from './inode.js';
import type { MetadataTable } from './metadata.js';
import type { SquashfsEntryType } from './types.js';

/** flags: the name is printable ASCII without quote or backslash (JSON holds it as stored). */
export const PLAIN_NAME = 1;
/** flags: nlink > 1. */
const LINKED = 2;
/** flags: an extended inode (its fields sit elsewhere, its block list starts 56 bytes in, not 32). */
const EXTENDED = 4;
/** flags: a regular file with at least one data block. */
const HAS_BLOCKS = 8;
/** flags: a regular file with a tail in a fragment block. */
const HAS_TAIL = 16;

/**
 * Every entry of the tree as columns (typed arrays), depth-first in directory order, root first:
 * what the Layout and the JSON need, without one object per entry (at 100k entries the objects
 * cost a third of the CPU in garbage collection). Names stay bytes in the directory table; a
 * path is built only when asked for. Entry 0 is the root.
 *
 * A column holds only what the tables cannot give in a read or two: sizes, block and fragment
 * fields and name lengths are read from the inode and directory tables when asked for (the walk
 * has checked them), which keeps the columns at 14 bytes an entry, not 44 (100k entries: 3 MB).
 */
export class EntryTable {
  length = 0;
  /** Rows that are regular files (a hardlinked file counts once per link). */
  files = 0;
  /** Of those: with nlink > 1, with data blocks, and with a tail but no data block (the layout sizes its maps by them). */
  linkedFiles = 0;
  filesWithBlocks = 0;
  tailOnlyFiles = 0;
  /** Position of the inode in the uncompressed inode table. */
  at = new Uint32Array(0);
  parent = new Int32Array(0);
  /** Name in the directory table's bytes (the root's is 0; its name is empty). */
  nameStart = new Uint32Array(0);
  /** Basic inode type 1..7 (1 dir, 2 file, 3 symlink, ...). */
  type = new Uint8Array(0);
  /** Rows of the directories and of the symlinks, ascending (the Layout's tree lists them: no pass over every row). */
  readonly dirRows: number[] = [];
  readonly symlinkRows: number[] = [];
  /** PLAIN_NAME, LINKED, EXTENDED, HAS_BLOCKS and HAS_TAIL bits. */
  flags = new Uint8Array(0);
  /** First child and next sibling (-1: none), for path lookups: built from `parent` on first use. */
  private links: { firstChild: Int32Array; nextSibling: Int32Array } | undefined;
  /** Paths of directories, built during the walk (there are few). */
  private readonly dirPaths = new Map<number, string>();
  private readonly children = new Map<number, Map<string, number>>();

  private readonly inodeView: DataView;
  private readonly dirView: DataView;

  constructor(
    readonly inodeBytes: Buffer,
    readonly dirBytes: Buffer,
    /** Rows to allocate up front: the superblock's inode count (hardlinks add rows; columns grow then). */
    private readonly capacity: number,
    readonly blockSize: number,
  ) {
    this.inodeView = new DataView(inodeBytes.buffer, inodeBytes.byteOffset, inodeBytes.byteLength);
    this.dirView = new DataView(dirBytes.buffer, dirBytes.byteOffset, dirBytes.byteLength);
  }

  /** inode_number, at the same place in every inode type. */
  inode(i: number): number {
    return this.inodeView.getUint32(this.at[i]! + 12, true);
  }

  /** More than one link (a hardlinked file). */
  linked(i: number): boolean {
    return (this.flags[i]! & LINKED) !== 0;
  }

  /** Regular files: at least one data block. */
  hasBlocks(i: number): boolean {
    return (this.flags[i]! & HAS_BLOCKS) !== 0;
  }

  /** Name length in bytes: the directory entry's name_size - 1 sits just before the name. */
  nameLength(i: number): number {
    return i === 0 ? 0 : this.dirView.getUint16(this.nameStart[i]! - 2, true) + 1;
  }

  /** file_size of a regular file, directory (listing bytes + 3) or symlink (target length). */
  size(i: number): number {
    const v = this.inodeView;
    const at = this.at[i]!;
    const extended = (this.flags[i]! & EXTENDED) !== 0;
    switch (this.type[i]) {
      case 2:
        return extended ? v.getUint32(at + 28, true) * 4294967296 + v.getUint32(at + 24, true) : v.getUint32(at + 28, true);
      case 1:
        return extended ? v.getUint32(at + 20, true) : v.getUint16(at + 24, true);
      case 3:
        return v.getUint32(at + 20, true);
      default:
        return 0;
    }
  }

  /** Regular files: position of the first data block. */
  startBlock(i: number): number {
    const v = this.inodeView;
    const at = this.at[i]!;
    return (this.flags[i]! & EXTENDED) !== 0 ? v.getUint32(at + 20, true) * 4294967296 + v.getUint32(at + 16, true) : v.getUint32(at + 16, true);
  }

  /** Regular files: number of data blocks (a tail in a fragment is not one). */
  blockCount(i: number): number {
    if ((this.flags[i]! & HAS_BLOCKS) === 0) return 0;
    const size = this.size(i);
    return (this.flags[i]! & HAS_TAIL) !== 0 ? Math.floor(size / this.blockSize) : Math.ceil(size / this.blockSize);
  }

  /** Regular files: fragment index of the tail, or -1. */
  fragment(i: number): number {
    if ((this.flags[i]! & HAS_TAIL) === 0) return -1;
    return this.inodeView.getUint32(this.at[i]! + ((this.flags[i]! & EXTENDED) !== 0 ? 44 : 20), true);
  }

  /** Regular files with a tail: its offset in the fragment block. */
  fragmentOffset(i: number): number {
    if ((this.flags[i]! & HAS_TAIL) === 0) return 0;
    return this.inodeView.getUint32(this.at[i]! + ((this.flags[i]! & EXTENDED) !== 0 ? 48 : 24), true);
  }

  /** Regular files: where the block size words are in the inode table (after the basic or extended header). */
  listAt(i: number): number {
    return this.at[i]! + ((this.flags[i]! & EXTENDED) !== 0 ? 56 : 32);
  }

  /** The walk is over: nothing is added after this. */
  seal(): void {
    this.links = undefined;
  }

  /** Children of each directory in listing order (rows come depth-first, so in row order). */
  childLinks(): { firstChild: Int32Array; nextSibling: Int32Array } {
    if (this.links === undefined) {
      const firstChild = new Int32Array(this.length).fill(-1);
      const nextSibling = new Int32Array(this.length).fill(-1);
      for (let i = this.length - 1; i > 0; i--) {
        const p = this.parent[i]!;
        nextSibling[i] = firstChild[p]!;
        firstChild[p] = i;
      }
      this.links = { firstChild, nextSibling };
    }
    return this.links;
  }

  typeName(i: number): SquashfsEntryType {
    return INODE_TYPES[this.type[i]! - 1]!;
  }

  name(i: number): string {
    return this.dirBytes.toString('utf8', this.nameStart[i]!, this.nameStart[i]! + this.nameLength(i));
  }

  pathOf(i: number): string {
    if (i === 0) return '/';
    const known = this.dirPaths.get(i);
    if (known !== undefined) return known;
    const parent = this.parent[i]!;
    return parent === 0 ? `/${this.name(i)}` : `${this.pathOf(parent)}/${this.name(i)}`;
  }

  symlinkTarget(i: number): string {
    const s = this.at[i]! + 24;
    return this.inodeBytes.toString('utf8', s, s + this.inodeView.getUint32(this.at[i]! + 20, true));
  }

  /** Index of the entry at an exact path ("/", "/usr/bin/bash"), or -1; no symlink following. */
  find(path: string): number {
    if (path === '/') return this.length > 0 ? 0 : -1;
    if (!path.startsWith('/')) return -1;
    let at = 0;
    for (const part of path.slice(1).split('/')) {
      if (part === '' || this.type[at] !== 1) return -1;
      const next = this.childrenOf(at).get(part);
      if (next === undefined) return -1;
      at = next;
    }
    return at;
  }

  /** Name to row of a directory's children, built on the first lookup in that directory. */
  private childrenOf(dir: number): Map<string, number> {
    let names = this.children.get(dir);
    if (names === undefined) {
      names = new Map();
      const { firstChild, nextSibling } = this.childLinks();
      for (let c = firstChild[dir]!; c >= 0; c = nextSibling[c]!) {
        const name = this.name(c);
        if (!names.has(name)) names.set(name, c);
      }
      this.children.set(dir, names);
    }
    return names;
  }

  /** Append a row; returns its index. Columns double when full. `plain`: see PLAIN_NAME. */
  add(at: number, parent: number, nameStart: number, plain: boolean): number {
    if (this.length >= this.at.length) this.grow(Math.max(this.capacity, this.at.length * 2));
    const i = this.length++;
    this.at[i] = at;
    this.parent[i] = parent;
    this.nameStart[i] = nameStart;
    this.flags[i] = plain ? PLAIN_NAME : 0;
    return i;
  }

  /** Type and flags of row i from the checked fields readInode gave for its inode. */
  setFields(i: number, f: InodeFields): void {
    const type = ((f.inodeType - 1) % 7) + 1;
    this.type[i] = type;
    let flags = (this.flags[i]! & PLAIN_NAME) | (f.nlink > 1 ? LINKED : 0) | (f.inodeType > 7 ? EXTENDED : 0);
    if (type === 2) {
      if (f.blockCount > 0) flags |= HAS_BLOCKS;
      if (f.fragment >= 0) flags |= HAS_TAIL;
    }
    this.flags[i] = flags;
    this.count(i, type, flags);
  }

  /** Row i is another link to row `from`'s inode. */
  copyFields(i: number, from: number): void {
    const type = this.type[from]!;
    this.type[i] = type;
    const flags = (this.flags[i]! & PLAIN_NAME) | (this.flags[from]! & ~PLAIN_NAME);
    this.flags[i] = flags;
    this.count(i, type, flags);
  }

  private count(i: number, type: number, flags: number): void {
    if (type !== 2) {
      if (type === 1) this.dirRows.push(i);
      else if (type === 3) this.symlinkRows.push(i);
      return;
    }
    this.files++;
    if ((flags & LINKED) !== 0) this.linkedFiles++;
    if ((flags & HAS_BLOCKS) !== 0) this.filesWithBlocks++;
    else if ((flags & HAS_TAIL) !== 0) this.tailOnlyFiles++;
  }

  setDirPath(i: number, path: string): void {
    this.dirPaths.set(i, path);
  }

  private grow(n: number): void {
    const g = <T extends { length: number; set(a: T): void }>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    this.at = g(this.at, (k) => new Uint32Array(k));
    this.parent = g(this.parent, (k) => new Int32Array(k));
    this.nameStart = g(this.nameStart, (k) => new Uint32Array(k));
    this.type = g(this.type, (k) => new Uint8Array(k));
    this.flags = g(this.flags, (k) => new Uint8Array(k));
  }
}

/** Depth-first walk in directory order, root first, with an explicit stack (no recursion limits); every inode is read and checked. */
export function walkTree(ctx: InodeContext, rootAt: number, directoryTable: MetadataTable, inodeCount: number): EntryTable {
  const file = ctx.file;
  const table = new EntryTable(ctx.table.bytes, directoryTable.bytes, Math.max(1, inodeCount), ctx.blockSize);
  const seenDirectories = new Set<number>();
  const hardlinks = new Map<number, number>();
  const dir: DirectoryInfo = { startBlock: 0, offset: 0, listingSize: 0, indexCount: 0 };
  const f = new InodeFields();
  // Children are pushed in listing order (CHILD_WORDS numbers + the parent's index each), then
  // that run of the stack is reversed so the first child is popped first.
  const W = CHILD_WORDS + 1;
  // A stack pointer over a plain array that never shrinks: no reallocation as it rises and falls.
  // rootAt as a small integer (`| 0`: it is an offset in the table, below 2^31): a double there
  // (the root reference is a u64, so it came through double arithmetic) made this a double array,
  // and every read of it boxed a number until V8 optimized the walk (80 bytes of garbage an entry).
  const stack: number[] = [rootAt | 0, 1, 0, 0, -1];
  let sp = W;
  const scratch: number[] = [];
  const push = (a: number, b: number, c: number, d: number, e: number): void => {
    if (sp === stack.length) stack.push(a, b, c, d, e);
    else {
      stack[sp] = a;
      stack[sp + 1] = b;
      stack[sp + 2] = c;
      stack[sp + 3] = d;
      stack[sp + 4] = e;
    }
    sp += W;
  };
  while (sp > 0) {
    sp -= W;
    const at = stack[sp]!;
    const claimedType = stack[sp + 1]!;
    const i = table.add(at, stack[sp + 4]!, stack[sp + 2]!, stack[sp + 3]! < NAME_NOT_PLAIN);
    const shared = hardlinks.size === 0 ? undefined : hardlinks.get(at);
    if (shared !== undefined) {
      if (table.type[shared] !== claimedType) {
        throw new FormatError(file, ctx.table.diskPositionOf(at), `${table.pathOf(i)}: directory entry says inode type ${claimedType}, inode is type ${inodeTypeAt(ctx, at)}`);
      }
      table.copyFields(i, shared);
      continue;
    }
    readInode(ctx, at, dir, f);
    table.setFields(i, f);
    const basicType = table.type[i]!;
    if (basicType !== claimedType) {
      throw new FormatError(file, ctx.table.diskPositionOf(at), `${table.pathOf(i)}: directory entry says inode type ${claimedType}, inode is type ${f.inodeType}`);
    }
    if (basicType !== 1) {
      if (f.nlink > 1) hardlinks.set(at, i);
      continue;
    }
    // A directory reached twice means a cycle (or a shared subtree): either would never end.
    if (seenDirectories.has(at)) {
      throw new FormatError(file, ctx.table.diskPositionOf(at), `${table.pathOf(i)}: directory inode at inode-table byte ${at} is reached twice (directory cycle)`);
    }
    seenDirectories.add(at);
    const path = table.pathOf(i);
    table.setDirPath(i, path);
    if (dir.listingSize === 0) continue;
    const listingAt = directoryTable.resolve(dir.startBlock, dir.offset, file, ctx.table.diskPositionOf(at), `listing of ${path}`);
    const words = readDirectory(file, directoryTable, ctx.table, listingAt, dir.listingSize, () => path, scratch);
    for (let k = words - CHILD_WORDS; k >= 0; k -= CHILD_WORDS) {
      push(scratch[k]!, scratch[k + 1]!, scratch[k + 2]!, scratch[k + 3]!, i);
    }
  }
  table.seal();
  return table;
}

function inodeTypeAt(ctx: InodeContext, at: number): number {
  return ctx.table.bytes.readUInt16LE(at);
}
