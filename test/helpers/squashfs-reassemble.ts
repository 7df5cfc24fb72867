import type { Extent, LayoutFile } from '../../src/image/layout.js';
import type { SquashfsEntry, SquashfsImage } from '../../src/image/squashfs/index.js';

/** Decompressed fragment blocks by extent start: many small files share one. */
const fragmentBlocks = new WeakMap<SquashfsImage, Map<number, Buffer>>();

/** Data-block extents of each file (by Layout.files index) by block number, shared blocks included. */
export function dataExtentsByFile(extents: readonly Extent[]): Map<number, Map<number, Extent>> {
  const map = new Map<number, Map<number, Extent>>();
  for (const e of extents) {
    if (e.kind !== 'data-block') continue;
    const owners = e.files ?? [e.file!];
    const blocks = e.fileBlocks ?? [e.block!];
    owners.forEach((f, i) => {
      const forFile = map.get(f) ?? new Map<number, Extent>();
      forFile.set(blocks[i]!, e);
      map.set(f, forFile);
    });
  }
  return map;
}

/**
 * A file's bytes rebuilt from the layout only (plus the tail's offset inside its fragment block,
 * which the layout does not carry): data-block extents decompressed in block order, missing
 * block numbers as sparse zeros, then the tail from the fragment-block extent that lists the file.
 */
export function reassembleFromLayout(
  img: SquashfsImage,
  files: readonly LayoutFile[],
  extents: readonly Extent[],
  byFile: Map<number, Map<number, Extent>>,
  index: number,
  entry: SquashfsEntry,
  base: number,
): Buffer {
  const owner = files[index]!.sameDataAs ?? index;
  const bs = img.blockSize;
  const size = files[index]!.size;
  const fragment = extents.find((e) => e.kind === 'fragment-block' && e.files!.includes(owner));
  const blockCount = fragment ? Math.floor(size / bs) : Math.ceil(size / bs);
  const data = byFile.get(owner) ?? new Map<number, Extent>();
  const parts: Buffer[] = [];
  for (let k = 0; k < blockCount; k++) {
    const want = Math.min(bs, size - k * bs);
    const e = data.get(k);
    parts.push(e ? img.readBlock(e.start - base, e.length, e.uncompressed === true, `test block ${k}`) : Buffer.alloc(want));
  }
  if (fragment) {
    let cache = fragmentBlocks.get(img);
    if (!cache) fragmentBlocks.set(img, (cache = new Map()));
    let block = cache.get(fragment.start);
    if (!block) {
      block = img.readBlock(fragment.start - base, fragment.length, fragment.uncompressed === true, 'test fragment');
      cache.set(fragment.start, block);
    }
    const at = entry.fragment!.offsetInBlock;
    parts.push(block.subarray(at, at + (size % bs)));
  }
  return Buffer.concat(parts);
}
