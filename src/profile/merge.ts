import type { FileEvent } from '../trace/types.js';
import type { ProfileEntry } from './types.js';

/**
 * How several traces become one order.
 * - concat: the first trace's order, then the files only later traces saw, in their order
 *   (initramfs stage + real root, or a boot followed by a first-login capture).
 * - interleave: by relative position inside each trace (first access index / trace length),
 *   ties broken by trace order (several boots or desktops of equal weight).
 */
export type MergeMode = 'concat' | 'interleave';


export function mergeFirstAccesses(lists: readonly FileEvent[][], mode: MergeMode): ProfileEntry[] {
  const firsts = lists.map((events) => firstAccesses(events));
  let ordered: { event: FileEvent; source: number; rank: number }[] = [];
  firsts.forEach((events, source) => {
    events.forEach((event, index) => {
      ordered.push({ event, source, rank: events.length > 1 ? index / (events.length - 1) : 0 });
    });
  });
  if (mode === 'interleave') {
    // Array.prototype.sort is stable: equal ranks keep trace order.
    ordered = ordered.sort((a, b) => a.rank - b.rank || a.source - b.source);
  }
  const seen = new Set<string>();
  const out: ProfileEntry[] = [];
  for (const { event, source } of ordered) {
    if (seen.has(event.path)) continue;
    seen.add(event.path);
    const entry: ProfileEntry = { path: event.path, order: out.length, firstSeq: event.seq, source };
    if (event.timeNs !== undefined) entry.firstTimeNs = event.timeNs;
    out.push(entry);
  }
  return out;
}

/** First access of each path within one trace, in access order. */
function firstAccesses(events: readonly FileEvent[]): FileEvent[] {
  const seen = new Set<string>();
  const out: FileEvent[] = [];
  for (const event of events) {
    if (seen.has(event.path)) continue;
    seen.add(event.path);
    out.push(event);
  }
  return out;
}
