import { basename } from 'node:path';
import type { Layout } from '../image/layout.js';
import { openImageOrManifest } from '../image/open-any.js';
import { chooseDeviceCoordinates, mapBlockEvents, mergeRanges, type DeviceOverrides } from '../map/index.js';
import { DEFAULT_EXCLUDES, normalizePath, stripPrefix } from '../profile/filters.js';
import { profileFromTraces } from '../profile/load.js';
import type { MergeMode } from '../profile/merge.js';
import type { Profile } from '../profile/types.js';
import { eventDigestOf } from '../trace/event-columns.js';
import { readTraces } from '../trace/read.js';
import { isFileEvent, type FileEvent, type Trace } from '../trace/types.js';
import { blockEventsToReads, type PhysicalReads } from './physical.js';
import type { FileAccess } from './replay.js';

/** What `simulate` and `report` read from disk: image layouts, the boot profile, the physical traces. */
export interface SimulationInputs {
  images: { name: string; layout: Layout }[];
  /**
   * Regular files of the profile (present in at least one image), in first-access order, with the
   * ranges the boot read when the trace records them (the whole file otherwise).
   */
  accesses: FileAccess[];
  /** Every profiled path, directories included: what the seed's sort file listed. */
  touchedPaths: string[];
  /** Block traces, in the first image's coordinates. */
  physical: { name: string; reads: PhysicalReads }[];
  traceNames: string[];
  /** Each trace's source and notes (rows skipped, events missing), for the caller to show. */
  traceNotes: { source: string; notes: string[] }[];
  profile: Profile;
}

export interface SimulationInputOptions {
  images: readonly string[];
  traces: readonly string[];
  excludes?: readonly string[];
  defaultExcludes?: boolean;
  stripPrefixes?: readonly string[];
  merge?: MergeMode;
  devices?: DeviceOverrides;
  /** Path on the ISO of the squashfs to use. */
  squashfsPath?: string;
}

/** An image (ISO or squashfs), or its manifest (the Layout as JSON, what the bundled profiles ship). */
function openLayout(path: string, squashfsPath: string | undefined): Layout {
  const view = openImageOrManifest(path, squashfsPath !== undefined ? { squashfsPath } : {});
  view.close();
  return view.layout;
}

/**
 * The byte ranges each file was read at (read and fault events, and block reads mapped to files),
 * and which traces record ranges at all: for those, a file they name but never read costs no data.
 */
function readRanges(
  traces: readonly Trace[],
  mapped: ReadonlyMap<Trace, FileEvent[]>,
  stripPrefixes: readonly string[],
): { byPath: Map<string, [number, number][]>; tracesWithRanges: Set<number> } {
  const byPath = new Map<string, [number, number][]>();
  const tracesWithRanges = new Set<number>();
  traces.forEach((trace, i) => {
    const digest = mapped.has(trace) ? undefined : eventDigestOf(trace);
    if (digest !== undefined) {
      // the module log: each path's ranges merged in the trace stage, without an object per event
      for (const [raw, ranges] of digest.readRangesByPath()) {
        tracesWithRanges.add(i);
        const path = normalizePath(stripPrefix(raw, stripPrefixes));
        let list = byPath.get(path);
        if (list === undefined) byPath.set(path, (list = []));
        list.push(...ranges);
      }
      return;
    }
    const events = mapped.get(trace) ?? trace.events.filter(isFileEvent);
    for (const e of events) {
      if (e.offset === undefined || e.length === undefined || e.path === '') continue;
      tracesWithRanges.add(i);
      const path = normalizePath(stripPrefix(e.path, stripPrefixes));
      let list = byPath.get(path);
      if (list === undefined) byPath.set(path, (list = []));
      list.push([e.offset, e.offset + e.length]);
    }
  });
  return { byPath, tracesWithRanges };
}

export async function loadSimulationInputs(options: SimulationInputOptions): Promise<SimulationInputs> {
  const images = options.images.map((path) => ({ name: basename(path), layout: openLayout(path, options.squashfsPath) }));
  const merged = await readTraces(options.traces);
  const base = images[0]!.layout;
  const stripPrefixes = options.stripPrefixes ?? [];
  const forProfile = merged.map((trace) => mapBlockEvents(trace, base, options.devices ? { devices: options.devices } : {}));
  const mapped = new Map<Trace, FileEvent[]>();
  forProfile.forEach((trace, i) => {
    if (trace.blocksMapped) mapped.set(merged[i]!, trace.events as FileEvent[]);
  });
  const profile = profileFromTraces(forProfile, {
    excludes: [...(options.defaultExcludes === false ? [] : DEFAULT_EXCLUDES), ...(options.excludes ?? [])],
    stripPrefixes,
    merge: options.merge ?? 'concat',
  });
  const known = new Set<string>();
  for (const image of images) for (const f of image.layout.files) known.add(f.path);
  const touchedPaths = profile.entries.map((e) => e.path);
  const ranged = readRanges(merged, mapped, stripPrefixes);
  const accesses: FileAccess[] = [];
  for (const entry of profile.entries) {
    if (!known.has(entry.path)) continue;
    if (!ranged.tracesWithRanges.has(entry.source)) {
      accesses.push({ path: entry.path }); // a trace of paths only (bootlog.list): the whole file
      continue;
    }
    const ranges = ranged.byPath.get(entry.path);
    if (ranges === undefined) accesses.push({ path: entry.path, offset: 0, length: 0 }); // opened, never read
    else for (const [a, b] of mergeRanges(ranges)) accesses.push({ path: entry.path, offset: a, length: b - a });
  }
  const physical = merged
    .filter((trace) => (eventDigestOf(trace)?.blocks ?? (trace.events.some((e) => e.kind === 'block') ? 1 : 0)) > 0)
    .map((trace) => {
      const choices = chooseDeviceCoordinates(trace, base, options.devices);
      return {
        name: basename(trace.source),
        reads: blockEventsToReads(trace.events, base, (e) => choices.get(e.device)?.coordinates ?? 'image'),
      };
    });
  const traceNotes = merged.map((t) => ({ source: t.source, notes: t.notes ?? [] }));
  return { images, accesses, touchedPaths, physical, traceNames: merged.map((t) => basename(t.source)), traceNotes, profile };
}
