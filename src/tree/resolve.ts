import type { TreeNode, TreeView } from './tree-view.js';

/** Linux gives up after 40 symlinks in one lookup (MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

/** Why a path does not resolve in a tree. */
export type LookupFailure =
  | 'missing' // a component does not exist
  | 'not-directory' // a component before the last is a file or a special file
  | 'outside-root' // the path itself climbs above the root with ".."
  | 'symlink-loop'; // more than MAX_SYMLINKS symlinks

export type Lookup =
  | { ok: true; /** Relative to the root, no leading slash; '' is the root. */ rel: string; node: TreeNode }
  | { ok: false; failure: LookupFailure; /** Relative path of the component that failed. */ at: string; last: boolean };

/**
 * The one symlink resolver, for an image's trees and a host directory alike. Resolves the absolute
 * `path` inside `tree` as a chroot would:
 * - symlinks are followed, an absolute target starts again at the tree's root;
 * - ".." goes to the parent of the component resolved so far (after symlinks, as the kernel does);
 *   a ".." that a symlink's target takes above the root stays at the root;
 * - a ".." of `path` itself that climbs above the root means the path does not belong to this tree
 *   ('outside-root');
 * - every component before the last must be a directory ("/etc/passwd/.." is 'not-directory').
 * A final symlink is followed too; the result is the node it leads to.
 */
export function resolvePath(tree: TreeView, path: string): Lookup {
  const pending: { name: string; fromLink: boolean }[] = [];
  pushComponents(pending, path, false);
  const resolved: string[] = [];
  const nodes: TreeNode[] = [tree.lstat('')];
  let links = 0;
  while (pending.length > 0) {
    const { name, fromLink } = pending.pop()!;
    const parent = nodes[nodes.length - 1]!;
    if (parent.type !== 'dir') return { ok: false, failure: 'not-directory', at: resolved.join('/'), last: false };
    if (name === '..') {
      if (resolved.length === 0) {
        if (fromLink) continue;
        return { ok: false, failure: 'outside-root', at: '', last: pending.length === 0 };
      }
      resolved.pop();
      nodes.pop();
      continue;
    }
    resolved.push(name);
    const rel = resolved.join('/');
    const node = tree.lstat(rel);
    if (node.type === 'missing') return { ok: false, failure: 'missing', at: rel, last: pending.length === 0 };
    if (node.type === 'symlink') {
      if (++links > MAX_SYMLINKS) return { ok: false, failure: 'symlink-loop', at: rel, last: pending.length === 0 };
      resolved.pop();
      const target = node.target ?? '';
      if (target.startsWith('/')) {
        resolved.length = 0;
        nodes.length = 1;
      }
      pushComponents(pending, target, true);
      continue;
    }
    nodes.push(node);
  }
  return { ok: true, rel: resolved.join('/'), node: nodes[nodes.length - 1]! };
}

/** Why a profile path is not a regular file of the tree. */
export type RegularFileFailure = 'root' | 'directory' | 'missing' | 'special' | 'outside-root' | 'symlink-loop';

export type Resolution =
  | { ok: true; rel: string; id: string | undefined }
  | { ok: false; reason: RegularFileFailure; detail?: string };

/**
 * Resolve an absolute profile path to a regular file of `tree` (resolvePath's rules). Only regular
 * files resolve; everything else says why not.
 */
export function resolveRegularFile(tree: TreeView, path: string): Resolution {
  if (!path.split('/').some((p) => p !== '' && p !== '.')) return { ok: false, reason: 'root' };
  return regularFileOf(resolvePath(tree, path));
}

/** resolveRegularFile's answer for a lookup. */
function regularFileOf(found: Lookup): Resolution {
  if (!found.ok) {
    switch (found.failure) {
      case 'outside-root':
        return { ok: false, reason: 'outside-root', detail: 'climbs above the root with ".."' };
      case 'symlink-loop':
        return { ok: false, reason: 'symlink-loop', detail: `at ${found.at}` };
      case 'missing':
        return found.last ? { ok: false, reason: 'missing' } : { ok: false, reason: 'missing', detail: `${found.at} does not exist` };
      case 'not-directory':
        return { ok: false, reason: 'missing', detail: `${found.at} is not a directory` };
    }
  }
  switch (found.node.type) {
    case 'file':
      return { ok: true, rel: found.rel, id: found.node.id };
    case 'dir':
      return found.rel === '' ? { ok: false, reason: 'root' } : { ok: false, reason: 'directory' };
    default:
      return { ok: false, reason: 'special' };
  }
}

/**
 * resolveRegularFile for many paths of one tree: a boot profile names thousands of files in a few
 * hundred directories, and each path's directory is resolved once. A path whose last component
 * is a plain name (not "", "." or "..") in a directory resolved before starts from that
 * directory's resolution: resolvePath reaches the same state there component by component, so
 * only a final symlink (whose target may climb with "..") or a directory that did not resolve to
 * a directory takes the whole walk again. The tree must not change meanwhile (HostTree caches
 * its lstats too; an image's tree is read-only).
 */
export function regularFileResolver(tree: TreeView): (path: string) => Resolution {
  const dirs = new Map<string, string | null>(); // a directory path as given -> its rel, or null: not a directory
  return (path) => {
    const cut = path.lastIndexOf('/');
    const name = path.slice(cut + 1);
    if (cut > 0 && name !== '' && name !== '.' && name !== '..') {
      const dirPath = path.slice(0, cut);
      let dirRel = dirs.get(dirPath);
      if (dirRel === undefined) {
        const found = resolvePath(tree, dirPath);
        dirRel = found.ok && found.node.type === 'dir' ? found.rel : null;
        dirs.set(dirPath, dirRel);
      }
      if (dirRel !== null) {
        const rel = dirRel === '' ? name : `${dirRel}/${name}`;
        const node = tree.lstat(rel);
        if (node.type === 'missing') return { ok: false, reason: 'missing' }; // as resolvePath's failure of the last component
        if (node.type !== 'symlink') return regularFileOf({ ok: true, rel, node });
      }
    }
    return resolveRegularFile(tree, path);
  };
}

/** Push the components of `path` so that the first component is popped first. */
function pushComponents(stack: { name: string; fromLink: boolean }[], path: string, fromLink: boolean): void {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  for (let i = parts.length - 1; i >= 0; i--) stack.push({ name: parts[i]!, fromLink });
}
