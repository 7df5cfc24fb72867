import { gensquashfsLine, gensquashfsName, type GensquashfsFlag } from '../formats/gensquashfs-sort.js';
import type { DroppedPath } from '../profile/types.js';
import type { Placement } from './priorities.js';

export interface GensquashfsSortEntry {
  /** Path relative to the image root ("usr/bin/bash"). */
  rel: string;
  /** The profile's path, for reporting a drop ("/usr/bin/bash"). */
  path: string;
}

export interface GensquashfsSortOptions {
  /** 'beginning': the entries before every unlisted file; 'end': after them. */
  placement: Placement;
  /** Relative paths packed without tail-end packing (`[dont_fragment]`). */
  dontFragment: ReadonlySet<string>;
}

export interface GensquashfsSortResult {
  text: string;
  /** Lines written. */
  written: number;
  dropped: DroppedPath[];
}

/**
 * A squashfs-tools-ng gensquashfs sort file (`gensquashfs --sort-file FILE`; format and naming rules:
 * src/formats/gensquashfs-sort.ts). Entries are packed in the order given: priorities -n..-1
 * (placement 'beginning', before the unlisted files at 0) or 1..n ('end'). Paths in `dontFragment`
 * get `[dont_fragment]`; those that are not entries are written at priority 0, the unlisted
 * files' default, so that they keep their place. A path listed twice keeps its first place
 * (gensquashfs uses the first line that names a file); a path that cannot be written is dropped
 * with the reason.
 */
export function renderGensquashfsSort(entries: readonly GensquashfsSortEntry[], options: GensquashfsSortOptions): GensquashfsSortResult {
  const dropped: DroppedPath[] = [];
  const seen = new Set<string>();
  const ordered: { rel: string; quoted: string }[] = [];
  for (const e of entries) {
    const rel = normalizeRel(e.rel);
    if (seen.has(rel)) continue;
    seen.add(rel);
    const q = gensquashfsName(rel);
    if (q.ok) ordered.push({ rel, quoted: q.text });
    else dropped.push({ path: e.path, reason: 'unrepresentable', detail: q.why });
  }
  const dont = new Set<string>();
  for (const rel of options.dontFragment) dont.add(normalizeRel(rel));
  const flags = (rel: string): GensquashfsFlag[] => (dont.has(rel) ? ['dont_fragment'] : []);
  const n = ordered.length;
  const lines = ordered.map((o, i) => gensquashfsLine(options.placement === 'beginning' ? i - n : i + 1, flags(o.rel), o.quoted));
  for (const rel of dont) {
    if (seen.has(rel)) continue;
    seen.add(rel);
    const q = gensquashfsName(rel);
    if (q.ok) lines.push(gensquashfsLine(0, ['dont_fragment'], q.text));
    else dropped.push({ path: `/${rel}`, reason: 'unrepresentable', detail: q.why });
  }
  return { text: lines.join(''), written: lines.length, dropped };
}

function normalizeRel(rel: string): string {
  return rel
    .split('/')
    .filter((p) => p !== '')
    .join('/');
}
