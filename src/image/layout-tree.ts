import type { TreeNode, TreeView } from '../tree/tree-view.js';
import { dataOwner, type Layout } from './layout.js';

/**
 * A Layout as a TreeView, for image manifests: regular files, and the directories and symlinks the
 * manifest records (`tree`). An older manifest without `tree` implies directories from the paths
 * below them and knows no symlinks, so a symlinked spelling then resolves to "missing".
 */
export class LayoutTree implements TreeView {
  private readonly files = new Map<string, string>();
  private readonly dirs = new Set<string>(['']);
  private readonly links = new Map<string, string>();

  constructor(readonly name: string, layout: Layout) {
    layout.files.forEach((file, index) => {
      if (file.layer !== 'squashfs') return;
      const rel = file.path.replace(/^\/+/, '');
      const same = dataOwner(layout, index);
      this.files.set(rel, file.inode !== undefined ? `ino:${file.inode}` : `file:${same}`);
      for (let cut = rel.lastIndexOf('/'); cut > 0; cut = rel.lastIndexOf('/', cut - 1)) this.dirs.add(rel.slice(0, cut));
    });
    for (const dir of layout.tree?.dirs ?? []) this.dirs.add(dir.replace(/^\/+/, ''));
    for (const link of layout.tree?.links ?? []) this.links.set(link.path.replace(/^\/+/, ''), link.target);
  }

  lstat(rel: string): TreeNode {
    const id = this.files.get(rel);
    if (id !== undefined) return { type: 'file', id };
    const target = this.links.get(rel);
    if (target !== undefined) return { type: 'symlink', target };
    return this.dirs.has(rel) ? { type: 'dir' } : { type: 'missing' };
  }

  topLevel(): string[] {
    const top = new Set<string>();
    for (const d of this.dirs) if (d !== '' && !d.includes('/')) top.add(d);
    for (const f of this.files.keys()) if (!f.includes('/')) top.add(f);
    for (const l of this.links.keys()) if (!l.includes('/')) top.add(l);
    return [...top].sort();
  }
}
