import type { TreeNode, TreeView } from '../profile/tree.js';
import type { SquashfsImage } from './squashfs/index.js';

/** The squashfs of an image as a TreeView, so profile paths resolve the way the guest saw them. */
export class SquashfsTree implements TreeView {
  readonly name: string;
  constructor(private readonly image: SquashfsImage) {
    this.name = image.name;
  }

  lstat(rel: string): TreeNode {
    const entry = this.image.lookup(rel === '' ? '/' : `/${rel}`);
    if (entry === undefined) return { type: 'missing' };
    const id = `ino:${entry.inode}`;
    switch (entry.type) {
      case 'file':
        return { type: 'file', id };
      case 'dir':
        return { type: 'dir', id };
      case 'symlink':
        return { type: 'symlink', target: entry.symlinkTarget ?? '', id };
      default:
        return { type: 'special', id };
    }
  }

  topLevel(): string[] {
    const out: string[] = [];
    for (const e of this.image.entries) {
      if (e.path !== '/' && e.path.indexOf('/', 1) < 0) out.push(e.path.slice(1));
    }
    return out;
  }
}
