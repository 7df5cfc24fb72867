import type { Extent, Layout, LayoutFile } from '../../src/image/layout.js';

/**
 * A squashfs-shaped Layout built in memory, the way mksquashfs lays one out: superblock, data
 * blocks and fragment blocks in file order, then the inode, directory, fragment and id tables.
 * Compressed sizes are a fixed fraction of the block, so figures are easy to check by hand.
 */
export interface SyntheticFile {
  path: string;
  size: number;
}

export function syntheticLayout(
  files: readonly SyntheticFile[],
  options: { blockSize?: number; ratio?: number; base?: number; source?: string } = {},
): Layout {
  const blockSize = options.blockSize ?? 4096;
  const ratio = options.ratio ?? 0.5;
  const base = options.base ?? 0;
  const extents: Extent[] = [{ start: base, length: 96, kind: 'superblock' }];
  const layoutFiles: LayoutFile[] = files.map((f, i) => ({ path: f.path, layer: 'squashfs', size: f.size, inode: i + 2 }));
  let cursor = base + 96;
  let fragmentFiles: number[] = [];
  let fragmentFill = 0;
  let fragmentIndex = 0;
  const flushFragment = (): void => {
    if (fragmentFiles.length === 0) return;
    const length = Math.max(1, Math.round(fragmentFill * ratio));
    extents.push({ start: cursor, length, kind: 'fragment-block', files: fragmentFiles, fragment: fragmentIndex++ });
    cursor += length;
    fragmentFiles = [];
    fragmentFill = 0;
  };
  files.forEach((f, i) => {
    const full = Math.floor(f.size / blockSize);
    for (let b = 0; b < full; b++) {
      const length = Math.round(blockSize * ratio);
      extents.push({ start: cursor, length, kind: 'data-block', file: i, block: b });
      cursor += length;
    }
    const tail = f.size - full * blockSize;
    if (tail > 0) {
      if (fragmentFill + tail > blockSize) flushFragment();
      fragmentFiles.push(i);
      fragmentFill += tail;
    }
  });
  flushFragment();
  const table = (kind: Extent['kind'], length: number): void => {
    extents.push({ start: cursor, length, kind });
    cursor += length;
  };
  table('inode-table', Math.max(8192, files.length * 64));
  table('directory-table', Math.max(8192, files.length * 32));
  table('fragment-table', 16 * Math.max(1, fragmentIndex));
  table('id-table', 8);
  return {
    source: options.source ?? 'synthetic.squashfs',
    size: cursor,
    squashfsOffset: base,
    squashfsSize: cursor - base,
    blockSize,
    compressor: 'gzip',
    files: layoutFiles,
    extents,
  };
}

/** A tree of `dirs` x `perDir` files with sizes from a simple formula. */
export function syntheticTree(dirs: number, perDir: number): SyntheticFile[] {
  const out: SyntheticFile[] = [];
  for (let d = 0; d < dirs; d++) {
    for (let f = 0; f < perDir; f++) {
      out.push({ path: `/usr/lib/d${d}/f${f}.so`, size: 1000 + ((d * 7919 + f * 104729) % 60000) });
    }
  }
  return out;
}
