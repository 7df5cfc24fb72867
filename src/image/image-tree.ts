import type { TreeNode, TreeView } from '../tree/tree-view.js';
import type { IsoEntry, IsoImage } from './iso9660/index.js';
import type { SquashfsEntry, SquashfsImage } from './squashfs/index.js';

/** The squashfs of an image as a TreeView, so paths resolve the way the guest saw them. */
export class SquashfsTree implements TreeView {
  readonly name: string;
  constructor(private readonly image: SquashfsImage) {
    this.name = image.name;
  }

  /** The entry at a resolved path (resolvePath's `rel`). */
  entry(rel: string): SquashfsEntry | undefined {
    return this.image.lookup(`/${rel}`);
  }

  lstat(rel: string): TreeNode {
    // from the columns: resolving thousands of profiled paths builds no entry object
    const t = this.image.table;
    const i = t.find(`/${rel}`);
    if (i < 0) return { type: 'missing' };
    const type = t.typeName(i);
    return nodeOf(type, type === 'symlink' ? t.symlinkTarget(i) : undefined, `ino:${t.inode(i)}`);
  }

  topLevel(): string[] {
    // from the columns: the root's children, without building every entry
    const t = this.image.table;
    const out: string[] = [];
    if (t.length > 0) {
      const { firstChild, nextSibling } = t.childLinks();
      for (let c = firstChild[0]!; c >= 0; c = nextSibling[c]!) out.push(t.name(c));
    }
    return out;
  }
}

/** The ISO 9660 tree of an image (Rock Ridge names and symlinks when present) as a TreeView. */
export class IsoTree implements TreeView {
  readonly name: string;
  constructor(private readonly image: IsoImage) {
    this.name = `${image.source.name} (ISO)`;
  }

  entry(rel: string): IsoEntry | undefined {
    return this.image.lookup(`/${rel}`);
  }

  lstat(rel: string): TreeNode {
    const entry = this.entry(rel);
    if (entry === undefined) return { type: 'missing' };
    // no inode numbers on an ISO: hardlinks share their first extent
    const first = entry.extents[0];
    return nodeOf(entry.type, entry.symlinkTarget, first === undefined ? undefined : `lba:${first.lba}`);
  }

  topLevel(): string[] {
    return topLevelOf(this.image.entries);
  }
}

function nodeOf(type: string, target: string | undefined, id: string | undefined): TreeNode {
  const node: TreeNode = { type: type === 'file' || type === 'dir' || type === 'symlink' ? type : 'special' };
  if (type === 'symlink') node.target = target ?? '';
  if (id !== undefined) node.id = id;
  return node;
}

function topLevelOf(entries: readonly { path: string }[]): string[] {
  const out: string[] = [];
  for (const e of entries) if (e.path !== '/' && e.path.indexOf('/', 1) < 0) out.push(e.path.slice(1));
  return out;
}
