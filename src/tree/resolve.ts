import type { DropReason } from './types.js';
import type { TreeView } from './tree.js';

export type Resolution =
  | { ok: true; rel: string; id: string | undefined }
  | { ok: false; reason: DropReason; detail?: string };

/** Linux gives up after 40 symlinks in one lookup (MAXSYMLINKS). */
const MAX_SYMLINKS = 40;

/**
 * Resolve an absolute profile path inside `tree` as a chroot would: absolute symlink targets
 * start again at the tree's root, and ".." from a symlink stops at the root. A ".." in the
 * profile path itself that climbs above the root means the path does not belong to this tree.
 * Only regular files resolve; everything else says why not.
 */
export function resolveRegularFile(tree: TreeView, path: string): Resolution {
  const pending: { name: string; fromLink: boolean }[] = [];
  pushComponents(pending, path, false);
  if (pending.length === 0) return { ok: false, reason: 'root' };
  const resolved: string[] = [];
  let links = 0;
  let id: string | undefined;
  while (pending.length > 0) {
    const { name, fromLink } = pending.pop()!;
    if (name === '..') {
      if (resolved.length === 0) {
        if (fromLink) continue;
        return { ok: false, reason: 'outside-root', detail: 'climbs above the root with ".."' };
      }
      resolved.pop();
      continue;
    }
    resolved.push(name);
    const rel = resolved.join('/');
    const node = tree.lstat(rel);
    const last = pending.length === 0;
    switch (node.type) {
      case 'missing':
        return { ok: false, reason: 'missing', detail: last ? undefined : `${rel} does not exist` };
      case 'symlink': {
        if (++links > MAX_SYMLINKS) return { ok: false, reason: 'symlink-loop', detail: `at ${rel}` };
        resolved.pop();
        const target = node.target ?? '';
        if (target.startsWith('/')) resolved.length = 0;
        pushComponents(pending, target, true);
        continue;
      }
      case 'dir':
        if (last) return { ok: false, reason: 'directory' };
        continue;
      case 'file':
        if (!last) return { ok: false, reason: 'missing', detail: `${rel} is not a directory` };
        id = node.id;
        break;
      case 'special':
        if (!last) return { ok: false, reason: 'missing', detail: `${rel} is not a directory` };
        return { ok: false, reason: 'special' };
    }
  }
  return { ok: true, rel: resolved.join('/'), id };
}

/** Push the components of `path` so that the first component is popped first. */
function pushComponents(stack: { name: string; fromLink: boolean }[], path: string, fromLink: boolean): void {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  for (let i = parts.length - 1; i >= 0; i--) stack.push({ name: parts[i]!, fromLink });
}
