import type { TreeNode, TreeView } from '../profile/tree.js';
import type { Layout } from './layout.js';

/**
 * A Layout as a TreeView, for image manifests: regular files are known, directories are implied
 * by the paths below them, and symlinks are not recorded, so a symlinked spelling resolves to
 * "missing" (a capture from the module records paths as the kernel resolved them, which is fine).
 */
export class LayoutTree implements TreeView {
  private readonly files = new Map<string, string>();
  private readonly dirs = new Set<string>(['']);

  constructor(readonly name: string, layout: Layout) {
    layout.files.forEach((file, index) => {
      if (file.layer !== 'squashfs') return;
      const rel = file.path.replace(/^\/+/, '');
      const same = file.sameDataAs ?? index;
      this.files.set(rel, file.inode !== undefined ? `ino:${file.inode}` : `file:${same}`);
      for (let cut = rel.lastIndexOf('/'); cut > 0; cut = rel.lastIndexOf('/', cut - 1)) this.dirs.add(rel.slice(0, cut));
    });
  }

  lstat(rel: string): TreeNode {
    const id = this.files.get(rel);
    if (id !== undefined) return { type: 'file', id };
    return this.dirs.has(rel) ? { type: 'dir' } : { type: 'missing' };
  }

  topLevel(): string[] {
    const top = new Set<string>();
    for (const d of this.dirs) if (d !== '' && !d.includes('/')) top.add(d);
    for (const f of this.files.keys()) if (!f.includes('/')) top.add(f);
    return [...top].sort();
  }
}
