import { UnsupportedError } from '../errors.js';
import type { IsoEntry } from './iso9660/index.js';
import { SECTOR } from './iso9660/fields.js';
import type { Extent, LayoutFile } from './layout.js';

/** The squashfs must be one run of bytes on the ISO (several extents of a >4 GiB file back to back): its first byte. */
export function contiguousStart(path: string, entry: IsoEntry): number {
  const first = entry.extents[0]!;
  let next = first.lba * SECTOR;
  for (const e of entry.extents) {
    if (e.lba * SECTOR !== next) {
      throw new UnsupportedError(`${path}: ${entry.path} is stored in non-contiguous extents`);
    }
    next = e.lba * SECTOR + e.length;
  }
  return first.lba * SECTOR;
}

/**
 * One layout for an ISO holding a squashfs: the squashfs files first (their indexes stay as
 * squashfsLayout made them), then the ISO's files; the ISO extents of the squashfs file itself give
 * way to the squashfs's extents (already shifted by its position on the ISO).
 */
export function mergeLayouts(
  inner: { files: LayoutFile[]; extents: Extent[] },
  outer: { files: LayoutFile[]; extents: Extent[] },
  squashfsPath: string,
): { files: LayoutFile[]; extents: Extent[] } {
  const shift = inner.files.length;
  const files = inner.files.concat(
    outer.files.map((f) => (f.sameDataAs === undefined ? { ...f } : { ...f, sameDataAs: f.sameDataAs + shift })),
  );
  const squashfsIndex = outer.files.findIndex((f) => f.path === squashfsPath);
  const outerExtents: Extent[] = [];
  for (const e of outer.extents) {
    if (e.kind === 'iso-file' && e.file === squashfsIndex) continue;
    outerExtents.push(e.file === undefined ? e : { ...e, file: e.file + shift });
  }
  // Both lists are sorted and the squashfs sits in the hole left by its file: merge them.
  const extents: Extent[] = [];
  let i = 0;
  let j = 0;
  while (i < inner.extents.length || j < outerExtents.length) {
    const a = inner.extents[i];
    const b = outerExtents[j];
    let next: Extent;
    if (b === undefined || (a !== undefined && a.start <= b.start)) {
      next = a!;
      i++;
    } else {
      next = b;
      j++;
    }
    // An odd ISO may put another file inside the squashfs's range: the squashfs keeps the bytes.
    const prev = extents[extents.length - 1];
    const prevEnd = prev === undefined ? 0 : prev.start + prev.length;
    if (next.start < prevEnd) {
      if (next.start + next.length <= prevEnd) continue;
      next = { ...next, start: prevEnd, length: next.start + next.length - prevEnd };
    }
    extents.push(next);
  }
  return { files, extents };
}
