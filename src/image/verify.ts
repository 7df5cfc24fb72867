import { noFragmentsPredicate, type ActionSpec } from '../formats/action-file.js';
import type { SortFileEntry } from '../formats/sort-file.js';
import { dataOwner, type Extent, type Layout } from './layout.js';
import type { SquashfsEntry, SquashfsImage } from './squashfs/index.js';

/** The parser moved to src/formats/sort-file.ts (shared with src/emit); re-exported for callers. */
export { parseSortFile, type SortFileEntry } from '../formats/sort-file.js';

/** Where a file's data starts: its first data block, or its fragment when it has no blocks. */
export interface Placement {
  path: string;
  priority: number;
  line: number;
  /** 'blocks' files are ordered by first block; 'fragment' files by fragment index and offset. */
  kind: 'blocks' | 'fragment';
  /** First byte of the data in the squashfs (first block, or the fragment block). */
  offset: number;
  /** Sort key inside the kind: block start, or fragment index * 2^32 + offset in the fragment block. */
  key: number;
}

export interface Offender {
  file: Placement;
  /** A file `file` is out of order with. */
  other: Placement;
  /** 'after-lower': `file` comes after `other`, of lower priority; 'before-higher': before `other`, of higher priority. */
  relation: 'after-lower' | 'before-higher';
}

export interface SortCheck {
  checked: Placement[];
  /** The fewest files out of priority order (mksquashfs writes higher priorities first), in image order. */
  offenders: Offender[];
  /** Listed paths that are not in the image. */
  missing: SortFileEntry[];
  /** Listed paths that are not checked: directories, symlinks, special files, empty files, duplicates. */
  skipped: { entry: SortFileEntry; why: string }[];
}

export interface SortCheckOptions {
  /** Removed from the start of listed paths (the mksquashfs source directory, for absolute entries). */
  stripPrefixes?: readonly string[];
  /**
   * Compare block files against fragment files by their byte position too. mksquashfs writes a
   * fragment block only when it is full, so small files of high priority land after big files of
   * lower priority even when the sort was followed: off by default.
   */
  physical?: boolean;
}

/**
 * Checks that the image places the sort file's regular files in priority order. Only files named
 * in the sort file count (a directory's priority reaches files below it, but those are not checked);
 * when a path is listed twice, the last line wins, as in mksquashfs.
 */
export function checkSortOrder(image: SquashfsImage, entries: readonly SortFileEntry[], options: SortCheckOptions = {}): SortCheck {
  const last = new Map<string, SortFileEntry>();
  for (const e of entries) last.set(normalize(e.path, options.stripPrefixes ?? []), e);
  const result: SortCheck = { checked: [], offenders: [], missing: [], skipped: [] };
  const dataOwner = new Map<string, string>();
  for (const [path, e] of last) {
    const entry = image.lookup(path);
    if (entry === undefined) {
      result.missing.push(e);
      continue;
    }
    if (entry.type !== 'file') {
      result.skipped.push({ entry: e, why: entry.type === 'dir' ? 'directory' : entry.type });
      continue;
    }
    const p = placement(entry, e);
    if (p === undefined) {
      result.skipped.push({ entry: e, why: 'no data (empty or all sparse)' });
      continue;
    }
    const key = `${p.kind}:${p.key}`;
    const owner = dataOwner.get(key);
    if (owner !== undefined) {
      result.skipped.push({ entry: e, why: `shares its data with ${owner}` });
      continue;
    }
    dataOwner.set(key, path);
    result.checked.push(p);
  }
  if (options.physical) {
    result.offenders = findInversions(result.checked, (p) => p.offset);
  } else {
    const blocks = result.checked.filter((p) => p.kind === 'blocks');
    const fragments = result.checked.filter((p) => p.kind === 'fragment');
    result.offenders = [...findInversions(blocks, (p) => p.key), ...findInversions(fragments, (p) => p.key)].sort(
      (a, b) => a.file.offset - b.file.offset,
    );
  }
  return result;
}

/**
 * The fewest files whose removal leaves the rest in priority order (higher first, ties in any
 * order): everything outside a longest non-increasing run of priorities, found in O(n log n).
 * Each offender names one file it is out of order with.
 */
function findInversions(files: Placement[], position: (p: Placement) => number): Offender[] {
  const ordered = [...files].sort((a, b) => position(a) - position(b));
  const n = ordered.length;
  // Longest non-decreasing subsequence of -priority (patience sorting with upper bound).
  const tails: number[] = []; // index into ordered of the smallest tail for each length
  const parent = new Int32Array(n).fill(-1);
  for (let i = 0; i < n; i++) {
    const v = -ordered[i]!.priority;
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (-ordered[tails[mid]!]!.priority <= v) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0) parent[i] = tails[lo - 1]!;
    tails[lo] = i;
  }
  const keep = new Uint8Array(n);
  for (let i = tails.length > 0 ? tails[tails.length - 1]! : -1; i >= 0; i = parent[i]!) keep[i] = 1;
  // For context: the lowest priority before each file, the highest after it.
  const minBefore: number[] = new Array<number>(n);
  const maxAfter: number[] = new Array<number>(n);
  for (let i = 0, m = -1; i < n; i++) {
    minBefore[i] = m;
    if (m < 0 || ordered[i]!.priority < ordered[m]!.priority) m = i;
  }
  for (let i = n - 1, m = -1; i >= 0; i--) {
    maxAfter[i] = m;
    if (m < 0 || ordered[i]!.priority > ordered[m]!.priority) m = i;
  }
  const out: Offender[] = [];
  for (let i = 0; i < n; i++) {
    if (keep[i]) continue;
    const p = ordered[i]!;
    const before = minBefore[i]!;
    const after = maxAfter[i]!;
    if (before >= 0 && ordered[before]!.priority < p.priority) out.push({ file: p, other: ordered[before]!, relation: 'after-lower' });
    else if (after >= 0) out.push({ file: p, other: ordered[after]!, relation: 'before-higher' });
  }
  return out;
}

function placement(entry: SquashfsEntry, e: SortFileEntry): Placement | undefined {
  const first = entry.blocks?.find((b) => !b.sparse);
  if (first !== undefined) return { path: entry.path, priority: e.priority, line: e.line, kind: 'blocks', offset: first.offset, key: first.offset };
  const f = entry.fragment;
  if (f !== undefined) {
    return { path: entry.path, priority: e.priority, line: e.line, kind: 'fragment', offset: f.blockOffset, key: f.index * 2 ** 32 + f.offsetInBlock };
  }
  return undefined;
}

function normalize(path: string, prefixes: readonly string[]): string {
  let p = path;
  for (const prefix of prefixes) {
    const pre = prefix.replace(/\/+$/, '');
    if (pre !== '' && (p === pre || p.startsWith(`${pre}/`))) {
      p = p.slice(pre.length);
      break;
    }
  }
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  return `/${parts.join('/')}`;
}

/** A file the action file marks no-fragments whose tail is in a fragment block all the same. */
export interface FragmentOffender {
  path: string;
  /** Fragment index, and where the fragment block starts in the image. */
  fragment: number;
  blockStart: number;
  /** How many files have a tail in that fragment block. */
  sharedBy: number;
  /** The file whose stored data this one shares (a duplicate or a hard link), when not its own. */
  sameDataAs?: string;
}

export interface FragmentCheck {
  /** `no-fragments` actions in the action file. */
  actions: number;
  /** Regular files of the image that the action file marks no-fragments. */
  marked: string[];
  offenders: FragmentOffender[];
}

/**
 * Checks that no file the action file marks `no-fragments` (the last matching `no-fragments` or
 * `fragments` action wins, as in mksquashfs) has its tail in a fragment block: a Layout
 * fragment-block extent whose `files` includes it, or includes the file whose data it shares.
 */
export function checkNoFragments(layout: Layout, specs: readonly ActionSpec[], actionFile: string): FragmentCheck {
  const pred = noFragmentsPredicate(specs, actionFile);
  const inFragment = new Map<number, Extent>();
  for (const e of layout.extents) {
    if (e.kind !== 'fragment-block') continue;
    for (const f of e.files ?? []) inFragment.set(f, e);
  }
  const result: FragmentCheck = { actions: pred.actions, marked: [], offenders: [] };
  layout.files.forEach((file, i) => {
    if (file.layer !== 'squashfs') return;
    if (!pred.matches({ path: file.path, type: 'file', size: file.size })) return;
    result.marked.push(file.path);
    const owner = dataOwner(layout, i);
    const block = inFragment.get(owner);
    if (block === undefined) return;
    const offender: FragmentOffender = { path: file.path, fragment: block.fragment ?? -1, blockStart: block.start, sharedBy: block.files?.length ?? 0 };
    if (file.sameDataAs !== undefined) offender.sameDataAs = layout.files[file.sameDataAs]!.path;
    result.offenders.push(offender);
  });
  return result;
}
