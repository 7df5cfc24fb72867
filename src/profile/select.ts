import { regularFileResolver } from '../tree/resolve.js';
import type { TreeView } from '../tree/tree-view.js';
import type { DroppedPath, ProfileEntry } from './types.js';

export interface SelectedFile {
  entry: ProfileEntry;
  /** Path relative to the tree's root after symlink resolution ("usr/bin/bash"). */
  rel: string;
}

export interface Selection {
  files: SelectedFile[];
  dropped: DroppedPath[];
}

/**
 * Keep the profile's regular files. With a tree, resolve each path in it (symlinks, merged /usr)
 * and drop directories, special files, missing paths and second names of one file (hardlinks,
 * symlinked spellings); without one, only the root "/" can be recognised as not a file.
 */
export function selectRegularFiles(entries: readonly ProfileEntry[], tree?: TreeView): Selection {
  const files: SelectedFile[] = [];
  const dropped: DroppedPath[] = [];
  const seenIds = new Map<string, string>();
  const resolve = tree === undefined ? undefined : regularFileResolver(tree);
  for (const entry of entries) {
    if (resolve === undefined) {
      const rel = entry.path.replace(/^\/+/, '');
      if (rel === '') dropped.push({ path: entry.path, reason: 'root' });
      else files.push({ entry, rel });
      continue;
    }
    const res = resolve(entry.path);
    if (!res.ok) {
      const drop: DroppedPath = { path: entry.path, reason: res.reason };
      if (res.detail !== undefined) drop.detail = res.detail;
      dropped.push(drop);
      continue;
    }
    const key = res.id ?? `path:${res.rel}`;
    const first = seenIds.get(key);
    if (first !== undefined) {
      dropped.push({ path: entry.path, reason: 'duplicate-inode', detail: `same file as ${first}` });
      continue;
    }
    seenIds.set(key, entry.path);
    files.push({ entry, rel: res.rel });
  }
  return { files, dropped };
}
