import { dataOwner, type Extent, type Layout, type LayoutFile } from './layout.js';

/** Per-file lookups over a Layout, built once in one pass over its extents. */
export interface LayoutIndex {
  layout: Layout;
  /** layout.files, so that dataOwner(index, file) works as dataOwner(layout, file). */
  files: readonly LayoutFile[];
  byPath: Map<string, number>;
  /** Data extents of each file (data blocks in block order, or its ISO extent). */
  data: Extent[][];
  /** Fragment-block extents holding each file's tail. */
  fragments: Extent[][];
  /** Inode and directory table spans, in position order, for the metadata estimate. */
  inodeTable: Extent[];
  directoryTable: Extent[];
}

/** The shared empty extent list (frozen: nobody may push into it). */
const NONE = Object.freeze([]) as unknown as Extent[];

export { dataOwner };

/**
 * Path maps by files array: the optimizer indexes many predicted layouts that share one files
 * array, and a map of 100k paths cost more than the rest of the index. (Keyed by the array and
 * its length: files are appended, never renamed in place.)
 */
const pathMaps = new WeakMap<readonly LayoutFile[], { length: number; byPath: Map<string, number> }>();

function pathMapOf(files: readonly LayoutFile[]): Map<string, number> {
  const known = pathMaps.get(files);
  if (known !== undefined && known.length === files.length) return known.byPath;
  const byPath = new Map<string, number>();
  files.forEach((f, i) => {
    if (!byPath.has(f.path)) byPath.set(f.path, i);
  });
  pathMaps.set(files, { length: files.length, byPath });
  return byPath;
}

export function indexLayout(layout: Layout): LayoutIndex {
  const n = layout.files.length;
  const byPath = pathMapOf(layout.files);
  // Most files of a big image have no extent of one kind: they share one frozen empty list
  // (the optimizer indexes a predicted layout per candidate, so this allocation is on its hot path).
  const data: Extent[][] = new Array<Extent[]>(n).fill(NONE);
  const fragments: Extent[][] = new Array<Extent[]>(n).fill(NONE);
  const add = (lists: Extent[][], f: number, e: Extent): void => {
    const list = lists[f]!;
    if (list === NONE) lists[f] = [e];
    else list.push(e);
  };
  const inodeTable: Extent[] = [];
  const directoryTable: Extent[] = [];
  for (const e of layout.extents) {
    if ((e.kind === 'data-block' || e.kind === 'iso-file') && e.file !== undefined && e.file >= 0 && e.file < n) {
      add(data, e.file, e);
    } else if (e.kind === 'fragment-block' && e.files) {
      // The files of one fragment block share one frozen list (100k files: one array per block,
      // not per file); a file with a tail in a second block gets a list of its own.
      const shared = Object.freeze([e]) as Extent[];
      for (const f of e.files) {
        if (f < 0 || f >= n) continue;
        const list = fragments[f]!;
        fragments[f] = list === NONE ? shared : [...list, e];
      }
    } else if (e.kind === 'inode-table') {
      inodeTable.push(e);
    } else if (e.kind === 'directory-table') {
      directoryTable.push(e);
    }
  }
  for (const list of data) if (list.length > 1) list.sort((a, b) => (a.block ?? 0) - (b.block ?? 0) || a.start - b.start);
  return { layout, files: layout.files, byPath, data, fragments, inodeTable, directoryTable };
}

/** Total length of a list of extents. */
export function spanLength(extents: readonly Extent[]): number {
  let total = 0;
  for (const e of extents) total += e.length;
  return total;
}

/** The byte at `position` of the concatenation of `extents`, as an absolute offset. */
export function offsetInSpans(extents: readonly Extent[], position: number): number {
  let left = position;
  for (const e of extents) {
    if (left < e.length) return e.start + left;
    left -= e.length;
  }
  const last = extents[extents.length - 1];
  return last ? last.start + Math.max(0, last.length - 1) : 0;
}
