import { InputError } from '../errors.js';
import { detectImageKind, findSquashfs } from './detect.js';
import { openIso, isoLayout, type IsoEntry, type IsoImage } from './iso9660/index.js';
import type { Layout } from './layout.js';
import { contiguousStart, mergeLayouts } from './merge-layouts.js';
import { FileSource, SliceSource, type ByteSource } from './source.js';
import { decompressorFor } from './decompress/index.js';
import { openBareSquashfs, squashfsTree } from './open-squashfs.js';
import { openSquashfs, squashfsLayout, type SquashfsImage } from './squashfs/index.js';

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
  /**
   * JSON.stringify(layout) as UTF-8, in pieces. For a bare squashfs whose files were never asked
   * for, it is written from the entry columns (100k files: no object or string per file); pieces
   * the caller pushes to `released` once written (and no longer referenced) are filled again.
   */
  layoutJson?: (released?: Uint8Array[]) => Iterable<Uint8Array>;
  close(): void;
}

export interface OpenImageOptions {
  /** Path on the ISO of the squashfs to use ("/live/filesystem.squashfs"); default: detected. */
  squashfsPath?: string;
  /** Accept an ISO without a squashfs in it (its layout is the ISO alone). Default false. */
  allowIsoOnly?: boolean;
}

/**
 * Opens a bare squashfs, or an ISO 9660 image holding one, detected from content (detect.ts).
 * The Layout merges the ISO's extents with the squashfs's (merge-layouts.ts). File content:
 * file-content.ts.
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
  if (detectImageKind(path, source) === 'squashfs') return openBareSquashfs(path, source, decompressorFor);
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
    tree: squashfsTree(squashfs),
  };
  return { path, kind: 'iso', layout, squashfs, iso, squashfsEntry: entry, source, close };
}
