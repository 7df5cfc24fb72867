import { lstatSync, readdirSync, readlinkSync, statSync, type BigIntStats, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InputError, describeSystemError } from '../errors.js';
import type { TreeNode, TreeView } from './tree-view.js';

/** A relative path with an empty, "." or ".." component, or a leading or trailing slash. */
const NOT_CLEAN = /(?:^|\/)\.{0,2}(?:\/|$)/;

/** A directory on this machine (the tree given to mksquashfs), looked up with lstat; results are cached. */
export class HostTree implements TreeView {
  private readonly cache = new Map<string, TreeNode>();
  /** join(name, rel) is this + rel for a rel with no empty, "." or ".." component ("/" + rel for a root of "/"). */
  private readonly prefix: string;

  constructor(readonly name: string) {
    this.prefix = join(name, '_').slice(0, -1);
    try {
      if (!statSync(name).isDirectory()) throw new InputError(`${name}: --root is not a directory`);
      readdirSync(name);
    } catch (err) {
      if (err instanceof InputError) throw err;
      throw new InputError(`cannot read --root ${describeSystemError(name, err)}`, { cause: err });
    }
  }

  lstat(rel: string): TreeNode {
    let node = this.cache.get(rel);
    if (node === undefined) {
      node = this.look(rel);
      this.cache.set(rel, node);
    }
    return node;
  }

  topLevel(): string[] {
    return readdirSync(this.name).sort();
  }

  private look(rel: string): TreeNode {
    // resolve.ts splits out "", "." and "..": such a rel needs no normalizing again
    const full = rel === '' || NOT_CLEAN.test(rel) ? join(this.name, rel) : this.prefix + rel;
    let st: Stats | BigIntStats | undefined;
    try {
      // numbers are cheaper than bigints (a profile's thousands of lstats); an inode number past
      // 2^53 (overlayfs's xino puts a layer number in the top bits) is read again as a bigint
      st = lstatSync(full, { throwIfNoEntry: false });
      if (st !== undefined && !(Number.isSafeInteger(st.ino) && Number.isSafeInteger(st.dev))) st = lstatSync(full, { bigint: true, throwIfNoEntry: false });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return { type: 'missing' };
      throw new InputError(`cannot look up ${describeSystemError(full, err)}`, { cause: err });
    }
    if (st === undefined) return { type: 'missing' }; // ENOENT
    const id = `${st.dev}:${st.ino}`;
    if (st.isSymbolicLink()) return { type: 'symlink', target: readlinkSync(full, 'utf8'), id };
    if (st.isDirectory()) return { type: 'dir', id };
    if (st.isFile()) return { type: 'file', id };
    return { type: 'special', id };
  }
}
