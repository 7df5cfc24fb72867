import { FormatError } from '../../errors.js';
import type { Extent, LayoutFile } from '../layout.js';
import type { SquashfsEntry, SquashfsImage } from './types.js';

/**
 * The squashfs part of a Layout: regular files (in entry order) and every extent, with offsets
 * shifted by `base` (where the squashfs starts in the outer image). Files whose data another file
 * already owns (hardlinks, duplicates) get `sameDataAs` and no extents.
 */
export function squashfsLayout(img: SquashfsImage, base: number): { files: LayoutFile[]; extents: Extent[] } {
  const files: LayoutFile[] = [];
  const extents: Extent[] = [];
  // Hardlinks share an inode; duplicates share their first block (or their tail's place in a
  // fragment). Numeric keys: string keys cost more than the rest of the layout for 100k files.
  const byInode = new Map<number, number>();
  const byFirstBlock = new Map<number, number>();
  const byTail = new Map<number, number>();
  const fragmentOwners: number[][] = img.fragmentTable.map(() => []);
  const fileEntries: SquashfsEntry[] = [];

  for (const entry of img.entries) {
    if (entry.type !== 'file') continue;
    const index = files.length;
    const file: LayoutFile = { path: entry.path, layer: 'squashfs', size: entry.size, inode: entry.inode };
    files.push(file);
    fileEntries.push(entry);
    if (entry.nlink > 1) {
      const sameInode = byInode.get(entry.inodeTableOffset);
      if (sameInode !== undefined) {
        file.sameDataAs = sameInode;
        continue;
      }
      byInode.set(entry.inodeTableOffset, index);
    }
    const first = entry.blocks?.[0];
    const f = entry.fragment;
    const map = first ? byFirstBlock : f ? byTail : undefined;
    if (map) {
      const key = first ? first.offset : f!.index * 2 ** 21 + f!.offsetInBlock;
      const candidate = map.get(key);
      if (candidate !== undefined && sameData(fileEntries[candidate]!, entry)) {
        file.sameDataAs = candidate;
        continue;
      }
      if (candidate === undefined) map.set(key, index);
    }
    const blocks = entry.blocks ?? [];
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i]!;
      if (b.sparse) continue;
      extents.push({ start: base + b.offset, length: b.size, kind: 'data-block', file: index, block: i, uncompressed: b.uncompressed });
    }
    if (entry.fragment) fragmentOwners[entry.fragment.index]!.push(index);
  }

  img.fragmentTable.forEach((f, i) => {
    extents.push({ start: base + f.offset, length: f.size, kind: 'fragment-block', files: fragmentOwners[i]!, fragment: i, uncompressed: f.uncompressed });
  });

  // Metadata regions: adjacent pieces of one table become one extent.
  let last: Extent | undefined;
  for (const r of img.regions) {
    if (last && last.kind === r.kind && r.start + base <= last.start + last.length) {
      last.length = Math.max(last.length, r.end + base - last.start);
      continue;
    }
    last = { start: base + r.start, length: r.end - r.start, kind: r.kind };
    extents.push(last);
  }

  extents.sort((a, b) => a.start - b.start || a.length - b.length);
  return { files, extents: removeSharedBlocks(extents, img.name, base) };
}

/** Same size, same blocks, same tail: the second file stores nothing of its own. */
function sameData(a: SquashfsEntry, b: SquashfsEntry): boolean {
  if (a.size !== b.size) return false;
  const ab = a.blocks ?? [];
  const bb = b.blocks ?? [];
  if (ab.length !== bb.length) return false;
  for (let i = 0; i < ab.length; i++) if (ab[i]!.offset !== bb[i]!.offset || ab[i]!.size !== bb[i]!.size) return false;
  const af = a.fragment;
  const bf = b.fragment;
  if (!af || !bf) return af === bf;
  return af.index === bf.index && af.offsetInBlock === bf.offsetInBlock;
}

/**
 * Extents must not overlap. A data block that several files list (tools that deduplicate runs of
 * blocks) is kept once, with every owner in `files`; any other overlap is a malformed image.
 */
function removeSharedBlocks(sorted: Extent[], name: string, base: number): Extent[] {
  const out: Extent[] = [];
  for (const e of sorted) {
    const prev = out[out.length - 1];
    if (prev && e.start < prev.start + prev.length) {
      if (prev.kind === 'data-block' && e.kind === 'data-block' && prev.start === e.start && prev.length === e.length) {
        prev.files ??= [prev.file!];
        prev.fileBlocks ??= [prev.block!];
        prev.files.push(e.file!);
        prev.fileBlocks.push(e.block!);
        continue;
      }
      throw new FormatError(name, e.start - base, `${describe(e)} overlaps ${describe(prev)} at ${prev.start - base} (+${prev.length})`);
    }
    out.push(e);
  }
  return out;
}

function describe(e: Extent): string {
  if (e.kind === 'data-block') return `data block ${e.block} of file #${e.file}`;
  if (e.kind === 'fragment-block') return `fragment block ${e.fragment}`;
  return e.kind;
}
