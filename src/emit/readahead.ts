import { dataOwner, type Extent, type ExtentKind, type Layout } from '../image/layout.js';

/** A file of the profile placed in the image. */
export interface PlacedFile {
  /** Path inside the squashfs ("/usr/bin/bash"). */
  path: string;
  /** Index in Layout.files. */
  file: number;
  /** First byte of its data (first data block, else its fragment block), absolute in the image. */
  position: number;
}

/** Metadata every path lookup and stat needs: with these in the page cache, no lookup seeks. */
export const READAHEAD_METADATA: readonly ExtentKind[] = ['inode-table', 'directory-table', 'fragment-table', 'id-table'];

/**
 * Per file of the layout: its own extents (data blocks and fragment blocks), following
 * sameDataAs to the file that owns the data. Built once, in one pass over the extents.
 */
export function extentsByFile(layout: Layout): Extent[][] {
  const own: Extent[][] = layout.files.map(() => []);
  for (const e of layout.extents) {
    if (e.file !== undefined) own[e.file]?.push(e);
    if (e.files !== undefined) for (const f of e.files) own[f]?.push(e);
  }
  return layout.files.map((_, i) => own[dataOwner(layout, i)] ?? []);
}

/**
 * The profile's files in the order of their data in the image: the order that reads the
 * loopback front to back ("readahead only" in draklive). Files without data are left out.
 */
export function placeFiles(layout: Layout, files: readonly { path: string; file: number }[], byFile = extentsByFile(layout)): PlacedFile[] {
  const out: PlacedFile[] = [];
  for (const f of files) {
    const extents = byFile[f.file] ?? [];
    if (extents.length === 0) continue;
    let position = Infinity;
    for (const e of extents) if (e.start < position) position = e.start;
    out.push({ path: f.path, file: f.file, position });
  }
  return out.sort((a, b) => a.position - b.position);
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface RangeOptions {
  /** Ranges closer than this many bytes are read as one (reading a small gap beats a seek). */
  gap: number;
  /** Subtracted from every offset: the squashfs position in the ISO, for offsets in the loopback file. */
  base: number;
  /** Extent kinds read whole besides the files' data (default READAHEAD_METADATA). */
  metadata?: readonly ExtentKind[];
}

/**
 * Byte ranges to read so that the profile's files and the metadata to reach them are cached:
 * every data and fragment block of the files, plus the metadata tables, coalesced, in position order.
 */
export function readaheadRanges(layout: Layout, files: readonly number[], options: RangeOptions, byFile = extentsByFile(layout)): ByteRange[] {
  const kinds = new Set(options.metadata ?? READAHEAD_METADATA);
  const raw: ByteRange[] = [];
  for (const e of layout.extents) if (kinds.has(e.kind)) raw.push({ offset: e.start, length: e.length });
  for (const f of files) for (const e of byFile[f] ?? []) raw.push({ offset: e.start, length: e.length });
  return coalesce(raw, options.gap).map((r) => ({ offset: r.offset - options.base, length: r.length }));
}

/** Sorts ranges and joins those that overlap or lie within `gap` bytes of each other. */
export function coalesce(ranges: readonly ByteRange[], gap: number): ByteRange[] {
  const sorted = [...ranges].filter((r) => r.length > 0).sort((a, b) => a.offset - b.offset);
  const out: ByteRange[] = [];
  for (const r of sorted) {
    const prev = out[out.length - 1];
    if (prev !== undefined && r.offset <= prev.offset + prev.length + gap) {
      const end = Math.max(prev.offset + prev.length, r.offset + r.length);
      prev.length = end - prev.offset;
    } else {
      out.push({ offset: r.offset, length: r.length });
    }
  }
  return out;
}

/** Bytes of a list of ranges (overlaps counted twice: give coalesced ranges). */
export function totalLength(list: readonly ByteRange[]): number {
  let n = 0;
  for (const r of list) n += r.length;
  return n;
}
