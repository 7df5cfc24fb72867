import { InputError, UnsupportedError } from '../errors.js';
import { matchSquashfsReads } from '../map/image-match.js';
import type { Layout } from '../image/layout.js';
import { readTraces } from '../trace/read.js';
import { isFileEvent, type FileEvent, type Trace } from '../trace/types.js';
import { compileExcludes, normalizePath, stripPrefix } from './filters.js';
import { mergeFirstAccesses, type MergeMode } from './merge.js';
import type { DroppedPath, Profile } from './types.js';

export interface ProfileOptions {
  /** Regular expressions matched against the path after prefix stripping. */
  excludes: readonly string[];
  stripPrefixes: readonly string[];
  merge: MergeMode;
  /** Needed to turn block traces (qemu, blktrace) into file accesses. */
  layout?: Layout;
  /** Turns a trace's block events (and inode-only file events) into file events through a layout. */
  mapBlocks?: (trace: Trace, layout: Layout) => FileEvent[];
  /** 'ignore': use only the file events that name a path (e.g. a module log taken on another image). */
  blockEvents?: 'map' | 'ignore';
}

export async function loadProfile(paths: readonly string[], options: ProfileOptions): Promise<Profile> {
  return profileFromTraces(await readTraces(paths), options);
}

/** Filter, strip and merge: the part of profile building that does not touch the disk. */
export function profileFromTraces(traces: readonly Trace[], options: ProfileOptions): Profile {
  const excludes = compileExcludes(options.excludes);
  const dropped: DroppedPath[] = [];
  const excludedSeen = new Set<string>();
  let events = 0;
  let accesses = 0;
  let unmappedBlockEvents = 0;
  const lists = traces.map((trace) => {
    events += trace.events.length;
    const { fileEvents, unmapped } = fileEventsOf(trace, options);
    unmappedBlockEvents += unmapped;
    const kept: FileEvent[] = [];
    for (const event of fileEvents) {
      if (event.path === '') continue; // an inode the layout could not name; the mapper reports those
      const path = normalizePath(stripPrefix(event.path, options.stripPrefixes));
      if (excludes.some((re) => re.test(path))) {
        if (!excludedSeen.has(path)) {
          excludedSeen.add(path);
          dropped.push({ path, reason: 'excluded' });
        }
        continue;
      }
      accesses++;
      kept.push(path === event.path ? event : { ...event, path });
    }
    return kept;
  });
  const entries = mergeFirstAccesses(lists, options.merge);
  return { entries, dropped, repeats: accesses - entries.length, events, unmappedBlockEvents };
}

function fileEventsOf(trace: Trace, options: ProfileOptions): { fileEvents: FileEvent[]; unmapped: number } {
  const needsLayout = trace.events.some((e) => !isFileEvent(e) || e.path === '');
  if (!needsLayout) return { fileEvents: trace.events as FileEvent[], unmapped: 0 };
  if (options.layout !== undefined && options.mapBlocks !== undefined && options.blockEvents !== 'ignore') {
    const match = matchSquashfsReads(trace, options.layout);
    if (!match.matches) {
      throw new InputError(
        `${trace.source}: only ${match.aligned} of ${match.checked} squashfs block reads start on a block of the ` +
          'image given: the trace was recorded on another image. Give the image it was captured on, ' +
          'or --no-block-events to use only the file events',
      );
    }
    return { fileEvents: options.mapBlocks(trace, options.layout), unmapped: 0 };
  }
  // Without a layout, a trace that also names files (the module's log) still gives a profile.
  const named = trace.events.filter((e): e is FileEvent => isFileEvent(e) && e.path !== '');
  if (named.length === 0) {
    throw new UnsupportedError(
      `${trace.source}: this ${trace.format} trace records block reads only; give --image so they can be mapped to files`,
    );
  }
  return { fileEvents: named, unmapped: trace.events.length - named.length };
}
