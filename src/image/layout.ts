/**
 * The Layout: every physical extent of an image, tagged with what lives there.
 * Offsets are absolute byte offsets in the outermost image file (the ISO, or the bare squashfs).
 * The mapper, the simulator and the report all read this model.
 */
export type ExtentKind =
  | 'data-block' // block `block` of file `file`
  | 'fragment-block' // a fragment block shared by `files`
  | 'superblock'
  | 'compressor-options'
  | 'inode-table'
  | 'directory-table'
  | 'fragment-table'
  | 'export-table'
  | 'id-table'
  | 'xattr-table'
  | 'iso-system-area'
  | 'iso-volume-descriptor'
  | 'iso-path-table'
  | 'iso-directory'
  | 'iso-boot-catalog' // El Torito boot catalog (not in any directory)
  | 'iso-file' // a file stored directly on the ISO (kernel, initrd, ...): `file`
  | 'unknown';

export interface Extent {
  start: number;
  length: number;
  kind: ExtentKind;
  /** Index into Layout.files for data-block and iso-file extents. */
  file?: number;
  /** Block number inside the file, for data-block extents. */
  block?: number;
  /**
   * Indexes into Layout.files of every file with a tail in this fragment block; for a data block
   * that several files share (tools that deduplicate runs of blocks), every owner, `file` first.
   */
  files?: number[];
  /** For a shared data block: the block number inside each file of `files` (parallel array). */
  fileBlocks?: number[];
  /** Fragment index, for fragment-block extents. */
  fragment?: number;
  /** True when the block is stored uncompressed. */
  uncompressed?: boolean;
}

export interface LayoutFile {
  /** Absolute path inside its filesystem ("/usr/bin/bash"); ISO files are prefixed by the ISO tree. */
  path: string;
  /** 'squashfs' for files inside the squashfs, 'iso' for files directly on the ISO. */
  layer: 'squashfs' | 'iso';
  size: number;
  /** squashfs inode number (== the guest's i_ino), when layer is squashfs. */
  inode?: number;
  /** Index of another LayoutFile whose blocks this one shares (duplicate or hardlink). */
  sameDataAs?: number;
}

export interface Layout {
  /** The image file this layout describes. */
  source: string;
  /** Size of the outermost image in bytes. */
  size: number;
  /** Offset of the squashfs inside the outer image (0 for a bare squashfs), when there is one. */
  squashfsOffset?: number;
  squashfsSize?: number;
  blockSize?: number;
  compressor?: string;
  files: LayoutFile[];
  /** Sorted by start; extents never overlap. */
  extents: Extent[];
  /**
   * The squashfs's directories and symbolic links, so that a manifest (a Layout without its image)
   * can still resolve profile paths the way the guest did (merged /usr, /etc/os-release, ...).
   */
  tree?: { dirs: string[]; links: { path: string; target: string }[] };
}

/** Index of the extent containing `offset`, or -1. Extents must be sorted and non-overlapping. */
export function findExtentIndex(extents: readonly Extent[], offset: number): number {
  let lo = 0;
  let hi = extents.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const e = extents[mid]!;
    if (offset < e.start) hi = mid - 1;
    else if (offset >= e.start + e.length) lo = mid + 1;
    else return mid;
  }
  return -1;
}

/** Bound on sameDataAs chains: duplicates point at the first copy, so one hop is normal. */
const MAX_SAME_DATA_HOPS = 64;

/**
 * The file whose blocks hold `file`'s data: itself, or, following sameDataAs, the first copy of a
 * duplicate or hardlink. Takes a Layout or a LayoutIndex.
 */
export function dataOwner(layout: { readonly files: readonly LayoutFile[] }, file: number): number {
  let f = file;
  for (let hops = 0; hops < MAX_SAME_DATA_HOPS; hops++) {
    const next = layout.files[f]?.sameDataAs;
    if (next === undefined || next === f || next < 0 || next >= layout.files.length) return f;
    f = next;
  }
  return f;
}

/** Index of the first extent that ends after `offset` (extents sorted, not overlapping); extents.length when none does. */
export function firstEndingAfter(extents: readonly Extent[], offset: number): number {
  let lo = 0;
  let hi = extents.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = extents[mid]!;
    if (e.start + e.length <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Every extent overlapping [offset, offset + length), in position order. */
export function extentsInRange(extents: readonly Extent[], offset: number, length: number): Extent[] {
  const end = offset + length;
  const out: Extent[] = [];
  for (let i = firstEndingAfter(extents, offset); i < extents.length; i++) {
    const e = extents[i]!;
    if (e.start >= end) break;
    out.push(e);
  }
  return out;
}
