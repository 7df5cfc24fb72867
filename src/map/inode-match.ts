import { FormatError } from '../errors.js';
import type { Layout } from '../image/layout.js';
import type { FileEvent, Trace } from '../trace/types.js';
import { normaliseDeviceId } from './devices.js';
import type { InodeResolver } from './inodes.js';

/** Below this many page-cache fills on the squashfs the check says nothing. */
const MIN_CHECKED = 8;
/** Share of resolved fills that may lie past their file's end before the image is called another one. */
const MAX_PAST_END = 0.01;
/** Share of fills on the squashfs that may name no regular file (symlinks do; a boot has a few). */
const MAX_UNRESOLVED = 0.5;
const PAGE_SIZE = 4096;
/**
 * How far past a file's last block a fill may go: squashfs's readahead expands the window to whole
 * blocks without looking at the file size, and an async window is up to 2 x read_ahead_kb (128 KiB).
 */
const READAHEAD_SLACK = 256 * 1024;

export interface InodeMatch {
  /** Fills on the squashfs devices, and those that name a regular file of the image. */
  onSquashfs: number;
  checked: number;
  pastEnd: number;
  /** The first fill past its file's end (else the first that names no file), for the message. */
  first?: { event: FileEvent; file?: number };
  matches: boolean;
}

/**
 * A trace that names files only by inode (tracefs page-cache fills) carries no block offsets to
 * check against the image (image-match.ts does that for the module's squashfs reads). But the
 * kernel fills pages of a file only up to a little past its last block: on the image the log was
 * recorded on, nearly every fill names a regular file and lies within it. Through another image,
 * inode numbers name nothing, or other files of other sizes, and fills fall past their ends.
 */
export function matchInodeEvents(trace: Trace, layout: Layout, inodes: InodeResolver): InodeMatch {
  const devices = new Set(inodes.squashfsDevices);
  const unit = Math.max(PAGE_SIZE, layout.blockSize ?? PAGE_SIZE);
  let onSquashfs = 0;
  let checked = 0;
  let pastEnd = 0;
  let firstPast: InodeMatch['first'];
  let firstUnresolved: InodeMatch['first'];
  for (const event of trace.events) {
    if (event.kind === 'block' || event.path !== '' || event.offset === undefined || event.ino === undefined) continue;
    if (event.dev !== undefined && !devices.has(normaliseDeviceId(event.dev))) continue;
    onSquashfs++;
    const file = inodes.resolve(event);
    if (file === undefined) {
      firstUnresolved ??= { event };
      continue;
    }
    checked++;
    const size = layout.files[file]!.size;
    if (event.offset >= Math.ceil(size / unit) * unit + READAHEAD_SLACK) {
      pastEnd++;
      firstPast ??= { event, file };
    }
  }
  const tooManyPast = pastEnd > Math.max(1, MAX_PAST_END * checked);
  const tooManyUnresolved = onSquashfs - checked > MAX_UNRESOLVED * onSquashfs;
  const matches = onSquashfs < MIN_CHECKED || !(tooManyPast || tooManyUnresolved);
  const first = tooManyPast ? firstPast : tooManyUnresolved ? firstUnresolved : undefined;
  return first === undefined ? { onSquashfs, checked, pastEnd, matches } : { onSquashfs, checked, pastEnd, first, matches };
}

/** Throws a FormatError naming the trace's first offending line when the inode events do not fit the image. */
export function checkInodeEvents(trace: Trace, layout: Layout, inodes: InodeResolver): void {
  // traces with the module's squashfs reads are checked by those (image-match.ts)
  if (trace.events.some((e) => e.kind === 'block' && e.squashfsOffset === true)) return;
  const match = matchInodeEvents(trace, layout, inodes);
  if (match.matches || match.first === undefined) return;
  const { event, file } = match.first;
  const where = event.line === undefined ? '' : `line ${event.line}: `;
  const what =
    file === undefined
      ? `page-cache fill of inode ${event.ino} on ${event.dev ?? 'the squashfs'}: no regular file of ${layout.source} ` +
        `has that inode number, nor do ${match.onSquashfs - match.checked} of ${match.onSquashfs} fills`
      : `page-cache fill of inode ${event.ino} at byte ${event.offset} lies past the end of ${layout.files[file]!.path} ` +
        `(${layout.files[file]!.size} bytes) in ${layout.source}, as do ${match.pastEnd} of ${match.checked} fills`;
  throw new FormatError(trace.source, undefined, `${where}${what}: the log was recorded on another image; give the image it was captured on`);
}
