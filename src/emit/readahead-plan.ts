import type { Layout } from '../image/layout.js';
import { mapBlockEvents } from '../map/index.js';
import { profileFromTraces, type ProfileOptions } from '../profile/load.js';
import type { MergeMode } from '../profile/merge.js';
import { selectRegularFiles, type Selection } from '../profile/select.js';
import type { Profile } from '../profile/types.js';
import type { Trace } from '../trace/types.js';
import type { TreeView } from '../tree/tree-view.js';
import { BlockIndex, bootReadRanges, collectBootReads, type BootRanges, type BootRangesOptions, type CollectedReads } from './readahead-ranges.js';
import { extentsByFile, placeFiles, readaheadRanges, totalLength, type ByteRange, type PlacedFile } from './readahead.js';

/*
 * `bootprof readahead`: from traces and an image to the profiled files in image order and, for
 * --ranges, the reads the boot made. The CLI only writes what this returns.
 */

export interface ReadaheadOptions {
  layout: Layout;
  /** The squashfs tree, to resolve profile paths as the guest did. */
  tree: TreeView;
  excludes: readonly string[];
  stripPrefixes: readonly string[];
  merge: MergeMode;
  /** false (--no-block-events): only the events that name files. */
  blockEvents: boolean;
  /** Also collect the boot's reads (block by block, and its metadata reads) for byte ranges. */
  ranges: boolean;
  /** The image's bytes, to size metadata blocks from their headers (absent for a manifest). */
  readAt?: (offset: number, length: number) => Buffer;
}

export interface ReadaheadPlan {
  profile: Profile;
  selection: Selection;
  /** With `ranges`: the boot's reads (squashfs reads of another image are left out of the profile). */
  collected?: CollectedReads;
  /** The selected files that are in the squashfs, in image order (files without data left out). */
  placed: PlacedFile[];
  /** Selected squashfs files with no data to read. */
  empty: number;
  byFile: ReturnType<typeof extentsByFile>;
}

export function planReadahead(traces: readonly Trace[], options: ReadaheadOptions): ReadaheadPlan {
  const { layout, tree } = options;
  const profileOptions: ProfileOptions = { excludes: options.excludes, stripPrefixes: options.stripPrefixes, merge: options.merge };
  // Block traces (qemu, blktrace) and inode-only events become file accesses through the layout.
  const mapped = (list: readonly Trace[]): readonly Trace[] => (options.blockEvents ? list.map((t) => mapBlockEvents(t, layout)) : list);
  let collected: CollectedReads | undefined;
  let profile: Profile;
  if (options.ranges) {
    collected = collectBootReads(traces, {
      layout,
      tree,
      excludes: options.excludes,
      stripPrefixes: options.stripPrefixes,
      blockEvents: options.blockEvents,
      ...(options.readAt !== undefined ? { readAt: options.readAt } : {}),
    });
    profile = profileFromTraces(mapped(collected.profileTraces), profileOptions);
  } else {
    profile = profileFromTraces(mapped(traces), profileOptions);
  }
  const selection = selectRegularFiles(profile.entries, tree);
  const indexByPath = new Map<string, number>();
  layout.files.forEach((f, i) => {
    if (f.layer === 'squashfs' && !indexByPath.has(f.path)) indexByPath.set(f.path, i);
  });
  const wanted: { path: string; file: number }[] = [];
  for (const s of selection.files) {
    const path = `/${s.rel}`;
    const file = indexByPath.get(path);
    if (file !== undefined) wanted.push({ path, file });
  }
  const byFile = extentsByFile(layout);
  const placed = placeFiles(layout, wanted, byFile);
  return { profile, selection, ...(collected !== undefined ? { collected } : {}), placed, empty: wanted.length - placed.length, byFile };
}

/** The byte ranges of a --ranges plan: every block of the placed files (and the tables), and the blocks the boot read. */
export interface ReadaheadRanges {
  whole: ByteRange[];
  wholeBytes: number;
  boot: BootRanges;
}

export function readaheadPlanRanges(plan: ReadaheadPlan, layout: Layout, collected: CollectedReads, options: BootRangesOptions): ReadaheadRanges {
  const whole = readaheadRanges(layout, plan.placed.map((p) => p.file), options, plan.byFile);
  const wholeBytes = totalLength(whole);
  const boot = bootReadRanges(new BlockIndex(layout), collected.files, collected.metadata, options);
  return { whole, wholeBytes, boot };
}
