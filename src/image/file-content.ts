import { InputError } from '../errors.js';
import { resolvePath, type Lookup } from '../tree/resolve.js';
import { IsoTree, SquashfsTree } from './image-tree.js';
import { isoFileChunks } from './iso9660/index.js';
import type { OpenedImage } from './open.js';
import { fileChunks as squashfsChunks } from './squashfs/index.js';

export interface FileContent {
  /** The path after symlinks. */
  path: string;
  size: number;
  chunks: Iterable<Buffer>;
}

/**
 * The content of a regular file of the image, in chunks: a file of the squashfs, or with
 * `layer: 'iso'` (or when the squashfs has no such path) a file stored on the ISO. Paths resolve
 * in either tree with src/tree's resolver, the one profile paths resolve with.
 */
export function fileChunks(image: OpenedImage, path: string, layer?: 'squashfs' | 'iso'): FileContent {
  const sq = image.squashfs;
  const iso = image.iso;
  let squashfsFailure: InputError | undefined;
  if (sq !== undefined && layer !== 'iso') {
    const tree = new SquashfsTree(sq);
    const found = resolvePath(tree, path);
    if (found.ok) {
      const entry = tree.entry(found.rel)!;
      if (entry.type !== 'file') throw notAFile(image.path, found.rel, entry.type);
      return { path: `/${found.rel}`, size: entry.size, chunks: squashfsChunks(sq, entry) };
    }
    squashfsFailure = lookupError(image.path, path, found);
    if (layer === 'squashfs' || iso === undefined) throw squashfsFailure;
  }
  if (iso === undefined) throw new InputError(`${image.path}: no ISO 9660 layer`);
  const tree = new IsoTree(iso);
  const found = resolvePath(tree, path);
  if (!found.ok) {
    const err = lookupError(`${image.path} (ISO)`, path, found);
    if (squashfsFailure !== undefined) throw new InputError(`${image.path}: ${path}: not in the squashfs, nor on the ISO (${err.message})`);
    throw err;
  }
  const entry = tree.entry(found.rel)!;
  if (entry.type !== 'file') throw notAFile(image.path, found.rel, entry.type);
  return { path: `/${found.rel}`, size: entry.size, chunks: isoFileChunks(iso, entry) };
}

function notAFile(image: string, rel: string, type: string): InputError {
  return new InputError(`${image}: /${rel} is a ${type}, not a regular file`);
}

function lookupError(what: string, path: string, found: Extract<Lookup, { ok: false }>): InputError {
  switch (found.failure) {
    case 'missing':
      return new InputError(`${what}: no such file /${found.at}`);
    case 'not-directory':
      return new InputError(`${what}: /${found.at} is not a directory`);
    case 'symlink-loop':
      return new InputError(`${what}: too many levels of symbolic links at /${found.at}`);
    case 'outside-root':
      return new InputError(`${what}: ${path} climbs above the root with ".."`);
  }
}
