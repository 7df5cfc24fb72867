import { jsonChunks } from '../util/json-chunks.js';
import type { Layout, LayoutFile } from './layout.js';
import type { OpenedImage } from './open.js';
import type { ByteSource } from './source.js';
import type { CompressorName } from './decompress/names.js';
import type { Decompressor } from './decompress/types.js';
import { openSquashfsWith } from './squashfs/open-with.js';
import { layoutFilesOf, squashfsLayoutColumns } from './squashfs/layout.js';
import { squashfsLayoutJson } from './squashfs/layout-json.js';
import type { SquashfsImage } from './squashfs/types.js';

/**
 * A bare squashfs as an OpenedImage, with no ISO code loaded (open-lazy.ts: inspect's start-up).
 * Layout.files and .tree are built on first use; until then layoutJson writes from the columns.
 */
export function openBareSquashfs(path: string, source: ByteSource, decompressorFor: (name: CompressorName) => Decompressor): OpenedImage {
  const squashfs = openSquashfsWith(source, decompressorFor);
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
  lazy('tree', () => squashfsTree(squashfs), (v) => (tree = v));
  const layoutJson = (released?: Uint8Array[]): Iterable<Uint8Array> =>
    files === undefined && tree === undefined ? squashfsLayoutJson(head, squashfs.table, inner.files, inner.extents, undefined, released) : utf8Pieces(jsonChunks(layout));
  return { path, kind: 'squashfs', layout, squashfs, source, close: () => source.close(), layoutJson };
}

/** jsonChunks cuts between whole JSON values, never inside a character: each piece encodes alone. */
function* utf8Pieces(pieces: Iterable<string>): Generator<Uint8Array> {
  for (const piece of pieces) yield Buffer.from(piece, 'utf8');
}

/** Directories and symlinks of the squashfs, for manifests (from the columns: no entry objects). */
export function squashfsTree(squashfs: SquashfsImage): NonNullable<Layout['tree']> {
  const t = squashfs.table;
  return {
    dirs: t.dirRows.map((i) => t.pathOf(i)),
    links: t.symlinkRows.map((i) => ({ path: t.pathOf(i), target: t.symlinkTarget(i) })),
  };
}
