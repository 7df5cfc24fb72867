import { FormatError } from '../../errors.js';
import { CHILD_WORDS, NAME_NOT_PLAIN, readDirectory } from './directory.js';
import { INODE_TYPES, InodeFields, readInode, type DirectoryInfo, type InodeContext } from './inode.js';
import type { MetadataTable } from './metadata.js';
import type { SquashfsEntryType } from './types.js';

/** flags: the name is printable ASCII without quote or backslash (JSON holds it as stored). */
export const PLAIN_NAME = 1;
/** flags: nlink > 1. */
const LINKED = 2;
/** flags: an extended inode (its block list starts 56 bytes in, not 32). */
const EXTENDED = 4;

/**
 * Every entry of the tree as columns (typed arrays), depth-first in directory order, root first:
 * what the Layout and the JSON need, without one object per entry (at 100k entries the objects
 * cost a third of the CPU in garbage collection). Names stay bytes in the directory table; a
 * path is built only when asked for. Entry 0 is the root.
 */
export class EntryTable {
  length = 0;
  /** Position of the inode in the uncompressed inode table. */
  at = new Uint32Array(0);
  parent = new Int32Array(0);
  /** Name in the directory table's bytes (the root has length 0). */
  nameStart = new Uint32Array(0);
  nameLength = new Uint16Array(0);
  /** Basic inode type 1..7 (1 dir, 2 file, 3 symlink, ...). */
  type = new Uint8Array(0);
  /** PLAIN_NAME, LINKED and EXTENDED bits (what the inode table would be read again for). */
  flags = new Uint8Array(0);
  size = new Float64Array(0);
  /** Regular files: first block position and block count. Symlinks: target position and length. */
  startBlock = new Float64Array(0);
  blockCount = new Uint32Array(0);
  /** Fragment index of the tail, or -1. */
  fragment = new Int32Array(0);
  fragmentOffset = new Uint32Array(0);
  /** First child and next sibling (-1: none), for path lookups: built from `parent` on first use. */
  private links: { firstChild: Int32Array; nextSibling: Int32Array } | undefined;
  /** Paths of directories, built during the walk (there are few). */
  private readonly dirPaths = new Map<number, string>();
  private readonly children = new Map<number, Map<string, number>>();

  private readonly inodeView: DataView;

  constructor(
    readonly inodeBytes: Buffer,
    readonly dirBytes: Buffer,
    /** Rows to allocate up front: the superblock's inode count (hardlinks add rows; columns grow then). */
    private readonly capacity: number,
  ) {
    this.inodeView = new DataView(inodeBytes.buffer, inodeBytes.byteOffset, inodeBytes.byteLength);
  }

  /** inode_number, at the same place in every inode type. */
  inode(i: number): number {
    return this.inodeView.getUint32(this.at[i]! + 12, true);
  }

  /** More than one link (a hardlinked file). */
  linked(i: number): boolean {
    return (this.flags[i]! & LINKED) !== 0;
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
    return this.dirBytes.toString('utf8', this.nameStart[i]!, this.nameStart[i]! + this.nameLength[i]!);
  }

  pathOf(i: number): string {
    if (i === 0) return '/';
    const known = this.dirPaths.get(i);
    if (known !== undefined) return known;
    const parent = this.parent[i]!;
    return parent === 0 ? `/${this.name(i)}` : `${this.pathOf(parent)}/${this.name(i)}`;
  }

  symlinkTarget(i: number): string {
    const s = this.startBlock[i]!;
    return this.inodeBytes.toString('utf8', s, s + this.blockCount[i]!);
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

  /** Append a row; returns its index. Columns double when full. */
  add(at: number, parent: number, nameStart: number, nameWord: number): number {
    if (this.length >= this.at.length) this.grow(Math.max(this.capacity, this.at.length * 2));
    const i = this.length++;
    this.at[i] = at;
    this.parent[i] = parent;
    this.nameStart[i] = nameStart;
    const notPlain = nameWord >= NAME_NOT_PLAIN;
    this.nameLength[i] = notPlain ? nameWord - NAME_NOT_PLAIN : nameWord;
    this.flags[i] = notPlain ? 0 : PLAIN_NAME;
    return i;
  }

  setFields(i: number, f: InodeFields): void {
    this.type[i] = ((f.inodeType - 1) % 7) + 1;
    this.flags[i] = (this.flags[i]! & PLAIN_NAME) | (f.nlink > 1 ? LINKED : 0) | (f.inodeType > 7 ? EXTENDED : 0);
    this.size[i] = f.size;
    const symlink = f.targetLength >= 0;
    this.startBlock[i] = symlink ? f.targetAt : f.startBlock;
    this.blockCount[i] = symlink ? f.targetLength : f.blockCount;
    this.fragment[i] = f.fragment;
    this.fragmentOffset[i] = f.fragmentOffset;
  }

  copyFields(i: number, from: number): void {
    this.type[i] = this.type[from]!;
    this.flags[i] = (this.flags[i]! & PLAIN_NAME) | (this.flags[from]! & ~PLAIN_NAME);
    this.size[i] = this.size[from]!;
    this.startBlock[i] = this.startBlock[from]!;
    this.blockCount[i] = this.blockCount[from]!;
    this.fragment[i] = this.fragment[from]!;
    this.fragmentOffset[i] = this.fragmentOffset[from]!;
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
    this.nameLength = g(this.nameLength, (k) => new Uint16Array(k));
    this.type = g(this.type, (k) => new Uint8Array(k));
    this.flags = g(this.flags, (k) => new Uint8Array(k));
    this.size = g(this.size, (k) => new Float64Array(k));
    this.startBlock = g(this.startBlock, (k) => new Float64Array(k));
    this.blockCount = g(this.blockCount, (k) => new Uint32Array(k));
    this.fragment = g(this.fragment, (k) => new Int32Array(k));
    this.fragmentOffset = g(this.fragmentOffset, (k) => new Uint32Array(k));
  }
}

/** Depth-first walk in directory order, root first, with an explicit stack (no recursion limits); every inode is read and checked. */
export function walkTree(ctx: InodeContext, rootAt: number, directoryTable: MetadataTable, inodeCount: number): EntryTable {
  const file = ctx.file;
  const table = new EntryTable(ctx.table.bytes, directoryTable.bytes, Math.max(1, inodeCount));
  const seenDirectories = new Set<number>();
  const hardlinks = new Map<number, number>();
  const dir: DirectoryInfo = { startBlock: 0, offset: 0, listingSize: 0, indexCount: 0 };
  const f = new InodeFields();
  // Children are pushed in listing order (CHILD_WORDS numbers + the parent's index each), then
  // that run of the stack is reversed so the first child is popped first.
  const W = CHILD_WORDS + 1;
  // A stack pointer over a plain array that never shrinks: no reallocation as it rises and falls.
  const stack: number[] = [rootAt, 1, 0, 0, -1];
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
    const i = table.add(at, stack[sp + 4]!, stack[sp + 2]!, stack[sp + 3]!);
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
