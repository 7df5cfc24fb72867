import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, describeSystemError } from '../errors.js';
import type { TreeNode, TreeView } from './tree-view.js';

/** A directory on this machine (the tree given to mksquashfs), looked up with lstat; results are cached. */
export class HostTree implements TreeView {
  private readonly cache = new Map<string, TreeNode>();

  constructor(readonly name: string) {
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
    const full = join(this.name, rel);
    let st;
    try {
      st = lstatSync(full, { bigint: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return { type: 'missing' };
      throw new InputError(`cannot look up ${describeSystemError(full, err)}`, { cause: err });
    }
    const id = `${st.dev}:${st.ino}`;
    if (st.isSymbolicLink()) return { type: 'symlink', target: readlinkSync(full, 'utf8'), id };
    if (st.isDirectory()) return { type: 'dir', id };
    if (st.isFile()) return { type: 'file', id };
    return { type: 'special', id };
  }
}
