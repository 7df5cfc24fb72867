import type { Extent, ExtentKind, LayoutFile } from '../layout.js';
import { SECTOR } from './fields.js';
import type { IsoImage } from './index.js';
import { FIRST_DESCRIPTOR_SECTOR } from './volume-descriptors.js';

export interface IsoLayout {
  /** Regular files of the ISO (layer 'iso'), in tree order. */
  files: LayoutFile[];
  /** Sorted, non-overlapping. iso-file extents index `files`. */
  extents: Extent[];
  /** For each entry of `files`, the IsoImage entry it came from (by path). */
  paths: string[];
}

/**
 * The physical extents of an ISO: system area, volume descriptors, path tables, directory extents
 * (every tree, plus Rock Ridge continuation areas), El Torito boot catalog, and regular files.
 * Files whose extents repeat an earlier file's (hardlinks) get `sameDataAs` and no extents.
 */
export function isoLayout(image: IsoImage): IsoLayout {
  const size = image.source.size;
  const raw: Extent[] = [];
  const push = (start: number, length: number, kind: ExtentKind, extra?: Partial<Extent>): void => {
    const end = Math.min(start + length, size);
    if (end > start) raw.push({ start, length: end - start, kind, ...extra });
  };

  const fileStarts = new Set<number>();
  for (const e of image.entries) if (e.type === 'file') for (const x of e.extents) fileStarts.add(x.lba);
  push(0, FIRST_DESCRIPTOR_SECTOR * SECTOR, 'iso-system-area');
  for (const d of image.descriptors) {
    push(d.offset, SECTOR, 'iso-volume-descriptor');
    // A catalog visible as a file in the tree (boot.cat) stays that file's extent.
    if (d.bootCatalogLba !== undefined && d.bootCatalogLba > 0 && !fileStarts.has(d.bootCatalogLba)) {
      push(d.bootCatalogLba * SECTOR, SECTOR, 'iso-boot-catalog');
    }
    if (d.pathTableSize !== undefined && d.pathTableSize > 0) {
      for (const lba of new Set(d.pathTableLbas ?? [])) if (lba > 0) push(lba * SECTOR, d.pathTableSize, 'iso-path-table');
    }
  }
  for (const r of image.directoryRanges) push(r.start, r.length, 'iso-directory');

  const files: LayoutFile[] = [];
  const paths: string[] = [];
  const firstByData = new Map<string, number>();
  for (const entry of image.entries) {
    if (entry.type !== 'file') continue;
    const index = files.length;
    const file: LayoutFile = { path: entry.path, layer: 'iso', size: entry.size };
    files.push(file);
    paths.push(entry.path);
    if (entry.extents.length === 0) continue;
    const key = entry.extents.map((e) => `${e.lba}+${e.length}`).join(',');
    const earlier = firstByData.get(key);
    if (earlier !== undefined) {
      file.sameDataAs = earlier;
      continue;
    }
    firstByData.set(key, index);
    for (const e of entry.extents) push(e.lba * SECTOR, e.length, 'iso-file', { file: index });
  }
  return { files, extents: flatten(raw), paths };
}

/** Metadata kinds win over file data where a hostile or odd image makes ranges overlap. */
const RANK: Partial<Record<ExtentKind, number>> = { 'iso-file': 1 };

/**
 * Sorts and removes overlaps: identical metadata ranges merge; where ranges overlap, the earlier
 * (or metadata) extent keeps the bytes and the later one is clipped. Adjacent directory ranges merge.
 */
function flatten(raw: Extent[]): Extent[] {
  raw.sort((a, b) => a.start - b.start || (RANK[a.kind] ?? 0) - (RANK[b.kind] ?? 0) || b.length - a.length);
  const out: Extent[] = [];
  for (const e of raw) {
    const prev = out[out.length - 1];
    if (prev !== undefined) {
      const prevEnd = prev.start + prev.length;
      if (e.start < prevEnd) {
        const end = e.start + e.length;
        if (end <= prevEnd) continue;
        e.length = end - prevEnd;
        e.start = prevEnd;
      }
      if (prev.kind === e.kind && prev.kind !== 'iso-file' && prev.start + prev.length === e.start) {
        prev.length += e.length;
        continue;
      }
    }
    out.push(e);
  }
  return out;
}
