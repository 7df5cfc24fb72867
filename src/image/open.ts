import { InputError } from '../errors.js';
import { jsonChunks } from '../util/json-chunks.js';
import { detectImageKind, findSquashfs } from './detect.js';
import { openIso, isoLayout, type IsoEntry, type IsoImage } from './iso9660/index.js';
import type { Layout } from './layout.js';
import { contiguousStart, mergeLayouts } from './merge-layouts.js';
import { FileSource, SliceSource, type ByteSource } from './source.js';
import { openSquashfs, squashfsLayout, type SquashfsImage } from './squashfs/index.js';
import { layoutFilesOf, squashfsLayoutColumns } from './squashfs/layout.js';
import { squashfsLayoutJson } from './squashfs/layout-json.js';
import type { LayoutFile } from './layout.js';

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
   * JSON.stringify(layout) in pieces. For a bare squashfs whose files were never asked for, it is
   * written from the entry columns (100k files: no object per file).
   */
  layoutJson?: () => Iterable<string>;
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
  if (detectImageKind(path, source) === 'squashfs') {
    const squashfs = openSquashfs(source);
    const inner = squashfsLayoutColumns(squashfs, 0);
    const head = {
      source: path,
      size: source.size,
      squashfsOffset: 0,
      squashfsSize: source.size,
      blockSize: squashfs.blockSize,
      compressor: squashfs.compressor,
    };
    // files and tree are built on first use (key order kept: JSON output is unchanged); then
    // they become plain data properties, as fast to read as any Layout's
    let files: LayoutFile[] | undefined;
    let tree: Layout['tree'];
    const layout = { ...head } as Layout;
    const lazy = <K extends 'files' | 'tree'>(key: K, build: () => Layout[K], seen: (v: Layout[K]) => void): void => {
      const settle = (value: Layout[K]): Layout[K] => {
        seen(value);
        Object.defineProperty(layout, key, { value, writable: true, enumerable: true, configurable: true });
        return value;
      };
      Object.defineProperty(layout, key, { enumerable: true, configurable: true, get: () => settle(build()), set: settle });
    };
    lazy('files', () => layoutFilesOf(squashfs.table, inner.files), (v) => (files = v));
    layout.extents = inner.extents;
    lazy('tree', () => treeOf(squashfs), (v) => (tree = v));
    const layoutJson = (): Iterable<string> =>
      files === undefined && tree === undefined ? squashfsLayoutJson(head, squashfs.table, inner.files, inner.extents) : jsonChunks(layout);
    return { path, kind: 'squashfs', layout, squashfs, source, close, layoutJson };
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

/** Directories and symlinks of the squashfs, for manifests (from the columns: no entry objects). */
function treeOf(squashfs: SquashfsImage): NonNullable<Layout['tree']> {
  const dirs: string[] = [];
  const links: { path: string; target: string }[] = [];
  const t = squashfs.table;
  for (let i = 0; i < t.length; i++) {
    if (t.type[i] === 1) dirs.push(t.pathOf(i));
    else if (t.type[i] === 3) links.push({ path: t.pathOf(i), target: t.symlinkTarget(i) });
  }
  return { dirs, links };
}
