import { FormatError, InputError, UnsupportedError } from '../errors.js';
import { openIso, isoLayout, type IsoEntry, type IsoImage } from './iso9660/index.js';
import { SECTOR } from './iso9660/fields.js';
import type { Extent, Layout, LayoutFile } from './layout.js';
import { FileSource, SliceSource, type ByteSource } from './source.js';
import { fileChunks as squashfsChunks, openSquashfs, squashfsLayout, type SquashfsImage } from './squashfs/index.js';

const SQUASHFS_MAGIC = 'hsqs';
/** Names live systems give their loopback image (Debian live, casper, Mandriva, Fedora). */
const SQUASHFS_NAME = /\.(squashfs|sfs|sqfs|squash)$/i;
/** Without a telling name we probe file heads; a hostile ISO with millions of files is capped. */
const MAX_PROBES = 100_000;

export interface OpenedImage {
  path: string;
  kind: 'squashfs' | 'iso';
  layout: Layout;
  squashfs?: SquashfsImage;
  iso?: IsoImage;
  /** The ISO entry holding the squashfs, for an ISO. */
  squashfsEntry?: IsoEntry;
  /** The outer image's bytes. */
  source: ByteSource;
  close(): void;
}

export interface OpenImageOptions {
  /** Path on the ISO of the squashfs to use ("/live/filesystem.squashfs"); default: detected. */
  squashfsPath?: string;
  /** Accept an ISO without a squashfs in it (its layout is the ISO alone). Default false. */
  allowIsoOnly?: boolean;
}

/**
 * Opens a bare squashfs, or an ISO 9660 image holding one, detected from content.
 * The Layout merges the ISO's extents with the squashfs's: the squashfs file's own extent is
 * replaced by the squashfs's extents (shifted by its position on the ISO).
 */
export function openImage(path: string, options: OpenImageOptions = {}): OpenedImage {
  const source = new FileSource(path);
  try {
    return openSource(path, source, options);
  } catch (err) {
    source.close();
    throw err;
  }
}

function openSource(path: string, source: ByteSource, options: OpenImageOptions): OpenedImage {
  const close = (): void => source.close();
  if (source.size >= 4 && source.read(0, 4).toString('latin1') === SQUASHFS_MAGIC) {
    const squashfs = openSquashfs(source);
    const inner = squashfsLayout(squashfs, 0);
    const layout: Layout = {
      source: path,
      size: source.size,
      squashfsOffset: 0,
      squashfsSize: source.size,
      blockSize: squashfs.blockSize,
      compressor: squashfs.compressor,
      files: inner.files,
      extents: inner.extents,
      tree: treeOf(squashfs),
    };
    return { path, kind: 'squashfs', layout, squashfs, source, close };
  }
  if (!(source.size >= 17 * SECTOR && source.read(16 * SECTOR + 1, 5).toString('latin1') === 'CD001')) {
    throw new FormatError(path, 0, 'not a squashfs (no hsqs magic) nor an ISO 9660 image (no CD001 at byte 32769)');
  }
  const iso = openIso(source);
  const outer = isoLayout(iso);
  const entry = findSquashfs(iso, options.squashfsPath);
  if (entry === undefined) {
    if (!options.allowIsoOnly) throw new InputError(`${path}: no squashfs file found on the ISO`);
    const layout: Layout = { source: path, size: source.size, files: outer.files, extents: outer.extents };
    return { path, kind: 'iso', layout, iso, source, close };
  }
  const base = contiguousStart(path, entry);
  const slice = new SliceSource(source, base, entry.size, entry.path);
  const squashfs = openSquashfs(slice);
  const inner = squashfsLayout(squashfs, base);
  const layout: Layout = {
    source: path,
    size: source.size,
    squashfsOffset: base,
    squashfsSize: entry.size,
    blockSize: squashfs.blockSize,
    compressor: squashfs.compressor,
    ...mergeLayouts(inner, outer, entry.path),
    tree: treeOf(squashfs),
  };
  return { path, kind: 'iso', layout, squashfs, iso, squashfsEntry: entry, source, close };
}

/** Directories and symlinks of the squashfs, for manifests. */
function treeOf(squashfs: SquashfsImage): NonNullable<Layout['tree']> {
  const dirs: string[] = [];
  const links: { path: string; target: string }[] = [];
  for (const e of squashfs.entries) {
    if (e.type === 'dir') dirs.push(e.path);
    else if (e.type === 'symlink') links.push({ path: e.path, target: e.symlinkTarget ?? '' });
  }
  return { dirs, links };
}

/** The named squashfs, else the largest *.squashfs-like file with the magic, else the largest file with it. */
function findSquashfs(iso: IsoImage, wanted: string | undefined): IsoEntry | undefined {
  const hasMagic = (e: IsoEntry): boolean =>
    e.size >= 96 && e.extents[0] !== undefined && e.extents[0].length >= 4 && iso.source.read(e.extents[0].lba * SECTOR, 4).toString('latin1') === SQUASHFS_MAGIC;
  if (wanted !== undefined) {
    const e = iso.lookup(wanted);
    if (e === undefined || e.type !== 'file') throw new InputError(`${iso.source.name}: no file ${wanted} on the ISO`);
    if (!hasMagic(e)) throw new FormatError(iso.source.name, e.extents[0] ? e.extents[0].lba * SECTOR : undefined, `${wanted} is not a squashfs`);
    return e;
  }
  const files = iso.entries.filter((e) => e.type === 'file' && e.size >= 96);
  const largest = (list: IsoEntry[]): IsoEntry | undefined => list.reduce<IsoEntry | undefined>((best, e) => (best === undefined || e.size > best.size ? e : best), undefined);
  const named = files.filter((e) => SQUASHFS_NAME.test(e.path) && hasMagic(e));
  if (named.length > 0) return largest(named);
  return largest(files.slice(0, MAX_PROBES).filter(hasMagic));
}

/** The squashfs must be one run of bytes on the ISO (several extents of a >4 GiB file back to back). */
function contiguousStart(path: string, entry: IsoEntry): number {
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
 * Squashfs files first (their indexes stay as squashfsLayout made them), then the ISO's files;
 * the ISO extents of the squashfs file itself give way to the squashfs's extents.
 */
function mergeLayouts(
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

/** Linux's MAXSYMLINKS. */
const MAX_SYMLINKS = 40;
const ISO_CHUNK = 1024 * 1024;

interface Linkish {
  type: string;
  symlinkTarget?: string;
}

/**
 * Resolves `path` in a tree given by `lookup`, following symlinks (absolute targets restart at
 * the tree's root) like a chroot would. Returns the final entry and its path.
 */
function resolve<T extends Linkish>(lookup: (p: string) => T | undefined, path: string, what: string): { entry: T; path: string } {
  const pending = path.split('/').filter((p) => p !== '' && p !== '.').reverse();
  const done: string[] = [];
  let links = 0;
  let entry = lookup('/');
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (name === '..') {
      done.pop();
      entry = lookup(`/${done.join('/')}`);
      continue;
    }
    if (entry !== undefined && entry.type !== 'dir') throw new InputError(`${what}: /${done.join('/')} is not a directory`);
    done.push(name);
    entry = lookup(`/${done.join('/')}`);
    if (entry === undefined) throw new InputError(`${what}: no such file /${done.join('/')}`);
    if (entry.type === 'symlink') {
      if (++links > MAX_SYMLINKS) throw new InputError(`${what}: too many levels of symbolic links at /${done.join('/')}`);
      const target = entry.symlinkTarget ?? '';
      done.pop();
      if (target.startsWith('/')) done.length = 0;
      pending.push(...target.split('/').filter((p) => p !== '' && p !== '.').reverse());
      entry = lookup(`/${done.join('/')}`);
    }
  }
  if (entry === undefined) throw new InputError(`${what}: no such file ${path}`);
  return { entry, path: `/${done.join('/')}` };
}

/**
 * The content of a regular file of the image, in chunks: a file of the squashfs, or with
 * `layer: 'iso'` (or when the squashfs has no such path) a file stored on the ISO.
 */
export function fileChunks(image: OpenedImage, path: string, layer?: 'squashfs' | 'iso'): { path: string; size: number; chunks: Iterable<Buffer> } {
  const sq = image.squashfs;
  if (sq !== undefined && layer !== 'iso') {
    const exists = (() => {
      try {
        return resolve((p) => sq.lookup(p), path, image.path);
      } catch (err) {
        if (layer === 'squashfs' || image.iso === undefined) throw err;
        return undefined;
      }
    })();
    if (exists !== undefined) {
      if (exists.entry.type !== 'file') throw new InputError(`${image.path}: ${exists.path} is a ${exists.entry.type}, not a regular file`);
      return { path: exists.path, size: exists.entry.size, chunks: squashfsChunks(sq, exists.entry) };
    }
  }
  const iso = image.iso;
  if (iso === undefined) throw new InputError(`${image.path}: no ISO 9660 layer`);
  const triedSquashfs = sq !== undefined && layer !== 'iso';
  let found: { entry: IsoEntry; path: string };
  try {
    found = resolve((p) => iso.lookup(p), path, `${image.path} (ISO)`);
  } catch (err) {
    if (triedSquashfs && err instanceof InputError) throw new InputError(`${image.path}: ${path}: not in the squashfs, nor on the ISO (${err.message})`);
    throw err;
  }
  if (found.entry.type !== 'file') throw new InputError(`${image.path}: ${found.path} is a ${found.entry.type}, not a regular file`);
  return { path: found.path, size: found.entry.size, chunks: isoChunks(iso, found.entry) };
}

function* isoChunks(iso: IsoImage, entry: IsoEntry): Generator<Buffer> {
  let done = 0;
  for (const e of entry.extents) {
    for (let off = 0; off < e.length; off += ISO_CHUNK) {
      const n = Math.min(ISO_CHUNK, e.length - off);
      yield iso.source.read(e.lba * SECTOR + off, n);
      done += n;
    }
  }
  // Zero-length extents of a multi-extent file were dropped: nothing else is missing.
  if (done < entry.size) yield Buffer.alloc(entry.size - done);
}
