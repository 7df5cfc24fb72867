import { closeSync, openSync, readSync } from 'node:fs';
import { InputError, describeSystemError } from '../errors.js';
import type { TreeView } from '../tree/tree-view.js';
import { SquashfsTree } from './image-tree.js';
import type { Layout } from './layout.js';
import { LayoutTree } from './layout-tree.js';
import { looksLikeManifest, readLayoutManifest } from './manifest.js';
import { openImage, type OpenedImage, type OpenImageOptions } from './open.js';

/** What commands that take `--image` need: the Layout, a tree to resolve paths in, and the image when there is one. */
export interface ImageView {
  layout: Layout;
  tree: TreeView;
  /** Absent for a manifest. */
  image?: OpenedImage;
  close(): void;
}

/** An ISO or squashfs image, or its manifest (the Layout JSON that `inspect --json` writes). */
export function openImageOrManifest(path: string, options: OpenImageOptions = {}): ImageView {
  if (looksLikeManifest(readHead(path))) {
    const layout = readLayoutManifest(path);
    return { layout, tree: new LayoutTree(path, layout), close: () => {} };
  }
  const image = openImage(path, options);
  if (image.squashfs === undefined) {
    image.close();
    throw new InputError(`${path}: no squashfs found in this image`);
  }
  return { layout: image.layout, tree: new SquashfsTree(image.squashfs), image, close: () => image.close() };
}

function readHead(path: string): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(64);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n);
  } catch (err) {
    throw new InputError(describeSystemError(path, err), { cause: err });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
