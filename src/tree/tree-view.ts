/**
 * A read-only view of a filesystem tree (a host directory, an image's squashfs or ISO, a manifest),
 * enough to resolve paths the way the guest kernel did (resolve.ts): lstat and readlink, relative to
 * the tree's root.
 */
export type TreeNodeType = 'file' | 'dir' | 'symlink' | 'special' | 'missing';

export interface TreeNode {
  type: TreeNodeType;
  /** Symlink target, for symlinks. */
  target?: string;
  /** Identity of the underlying file (dev:ino on a host, inode number in an image): hardlinks share it. */
  id?: string;
}

export interface TreeView {
  /** Name for messages. */
  readonly name: string;
  /** `rel` has no leading slash; '' is the root. Never follows a final symlink. */
  lstat(rel: string): TreeNode;
  /** Names directly under the root, for callers that need the top level. */
  topLevel(): string[];
}
