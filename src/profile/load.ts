import { UnsupportedError } from '../errors.js';
import { eventDigestOf, type EventDigest } from '../trace/event-columns.js';
import { isFileEvent, type FileEvent, type Trace } from '../trace/types.js';
import { compileExcludes, normalizePath, stripPrefix } from './filters.js';
import { mergeFirstAccesses, type MergeMode } from './merge.js';
import type { DroppedPath, Profile } from './types.js';

export interface ProfileOptions {
  /** Regular expressions matched against the path after prefix stripping. */
  excludes: readonly string[];
  stripPrefixes: readonly string[];
  merge: MergeMode;
}

/**
 * Filter, strip and merge the traces' file events into one profile. Block traces (qemu, blktrace)
 * and the module's inode-only events are mapped to files by the caller first (src/map's
 * mapBlockEvents); a trace that was not keeps only the events that name a path.
 */
export function profileFromTraces(traces: readonly Trace[], options: ProfileOptions): Profile {
  const excludes = compileExcludes(options.excludes);
  const dropped: DroppedPath[] = [];
  const excludedSeen = new Set<string>();
  let events = 0;
  let accesses = 0;
  let unmappedBlockEvents = 0;
  // a boot names a few thousand paths a million times: strip, normalize and match each path once
  const pathOf = new Map<string, string | null>();
  const keptPath = (raw: string): string | null => {
    let path = pathOf.get(raw);
    if (path !== undefined) return path;
    path = normalizePath(stripPrefix(raw, options.stripPrefixes));
    if (excludes.some((re) => re.test(path!))) {
      if (!excludedSeen.has(path)) {
        excludedSeen.add(path);
        dropped.push({ path, reason: 'excluded' });
      }
      path = null;
    }
    pathOf.set(raw, path);
    return path;
  };
  const lists = traces.map((trace) => {
    const digest = eventDigestOf(trace);
    if (digest !== undefined) {
      const list = firstAccessesOfDigest(trace, digest, keptPath);
      events += digest.count;
      unmappedBlockEvents += list.unmapped;
      accesses += list.accesses;
      return list.firsts;
    }
    events += trace.events.length;
    const { fileEvents, unmapped } = fileEventsOf(trace);
    unmappedBlockEvents += unmapped;
    const kept: FileEvent[] = [];
    for (const event of fileEvents) {
      if (event.path === '') continue; // an inode the layout could not name; the mapper reports those
      const path = keptPath(event.path);
      if (path === null) continue;
      accesses++;
      kept.push(path === event.path ? event : { ...event, path });
    }
    return kept;
  });
  const entries = mergeFirstAccesses(lists, options.merge);
  return { entries, dropped, repeats: accesses - entries.length, events, unmappedBlockEvents };
}

/**
 * The same for a module log, from its digest (no object per event): the first access of each path
 * is all mergeFirstAccesses keeps; the other accesses are counted.
 */
function firstAccessesOfDigest(
  trace: Trace,
  digest: EventDigest,
  keptPath: (raw: string) => string | null,
): { firsts: FileEvent[]; accesses: number; unmapped: number } {
  // as fileEventsOf: without a layout, block reads and inode-only events are left out and counted
  const unmapped = trace.blocksMapped === true ? 0 : digest.blocks + digest.pathless;
  if (unmapped > 0 && digest.count === unmapped) noNamedEvents(trace);
  const firsts: FileEvent[] = [];
  let accesses = 0;
  for (const { path: raw, first, events } of digest.pathFirsts()) {
    const path = keptPath(raw);
    if (path === null) continue;
    accesses += events;
    firsts.push(path === first.path ? first : { ...first, path });
  }
  return { firsts, accesses, unmapped };
}

function noNamedEvents(trace: Trace): never {
  if (trace.format === 'tracefs') {
    throw new UnsupportedError(`${trace.source}: a tracefs log names files by inode; give --image (the image or its manifest) to map them`);
  }
  throw new UnsupportedError(
    `${trace.source}: this ${trace.format} trace records block reads only; give --image so they can be mapped to files`,
  );
}

function fileEventsOf(trace: Trace): { fileEvents: FileEvent[]; unmapped: number } {
  const needsLayout = trace.blocksMapped !== true && trace.events.some((e) => !isFileEvent(e) || e.path === '');
  if (!needsLayout) return { fileEvents: trace.events as FileEvent[], unmapped: 0 };
  // Without a layout, a trace that also names files (the module's log) still gives a profile.
  const named = trace.events.filter((e): e is FileEvent => isFileEvent(e) && e.path !== '');
  // a tracefs log names its files by inode; its opens and execs alone would be another profile
  if (trace.format === 'tracefs' || named.length === 0) noNamedEvents(trace);
  return { fileEvents: named, unmapped: trace.events.length - named.length };
}
