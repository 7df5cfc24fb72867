import type { Layout } from '../image/layout.js';
import { LayoutTree } from '../image/layout-tree.js';
import { resolveRegularFile } from '../tree/resolve.js';
import type { Trace } from '../trace/types.js';
import type { InodeResolver } from './inodes.js';

/**
 * A tracefs log's path events (execs, and opens from the do_filp_open kprobe) carry no device: the
 * kernel prints the name the caller gave, on whatever filesystem it was. The module logs only files
 * on squashfs and overlay; an initramfs opens files of its own under the same names
 * (/lib/x86_64-linux-gnu/libc.so.6, /etc/modprobe.d/...). So a tracefs path event counts only
 * - after the first page-cache fill on the squashfs (before it is mounted nothing is opened from it);
 * - when the log shows the switch to the real root (pid 1 execs again: run-init, switch_root), and
 *   the event comes before it: only for image files the log fills pages of, or empty ones (a squashfs
 *   file opened during a first boot has its pages filled as soon as anything reads it).
 * A capture started late, in the running system, shows no switch: its opens stand (the files they
 * name may have been read before it started, and fill nothing any more).
 * Path events that name no file of the image pass: the profile reports and drops them.
 */
export function keepSquashfsPathEvents(trace: Trace, layout: Layout, inodes: InodeResolver): Trace {
  const filled = new Set<number>();
  let firstFill = Infinity;
  let switchRoot = -1;
  trace.events.forEach((event, k) => {
    if (event.kind === 'exec' && event.pid === 1 && k > firstFill) switchRoot = k;
    if (event.kind === 'block' || event.path !== '') return;
    const file = inodes.resolve(event);
    if (file === undefined) return;
    filled.add(layout.files[file]!.inode!);
    firstFill = Math.min(firstFill, k);
  });
  const tree = new LayoutTree(layout.source, layout);
  const sizeOfInode = new Map<number, number>();
  for (const f of layout.files) if (f.layer === 'squashfs' && f.inode !== undefined) sizeOfInode.set(f.inode, f.size);
  const verdicts = new Map<string, boolean>();
  const filledOrEmpty = (path: string): boolean => {
    let ok = verdicts.get(path);
    if (ok === undefined) {
      const found = path.startsWith('/') ? resolveRegularFile(tree, path) : undefined;
      const inode = found?.ok === true && found.id?.startsWith('ino:') ? Number(found.id.slice(4)) : undefined;
      ok = inode === undefined || filled.has(inode) || sizeOfInode.get(inode) === 0;
      verdicts.set(path, ok);
    }
    return ok;
  };
  const events = trace.events.filter(
    (event, k) => event.kind === 'block' || event.path === '' || (k > firstFill && (k >= switchRoot || filledOrEmpty(event.path))),
  );
  return events.length === trace.events.length ? trace : { ...trace, events };
}
