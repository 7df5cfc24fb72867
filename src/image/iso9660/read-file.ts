import { LimitError } from '../../errors.js';
import { SECTOR } from './fields.js';
import type { IsoImage } from './index.js';
import type { IsoEntry } from './tree.js';

/** Bytes yielded at a time: a multi-gigabyte file on the ISO is never one buffer. */
const CHUNK = 1024 * 1024;
/** node's Buffer limit: readIsoFile refuses files past it; isoFileChunks has no limit. */
const MAX_BUFFER = 2 ** 32 - 1;

/**
 * The content of a regular file on the ISO, in chunks: all its extents in order. Zero-length
 * extents of a multi-extent file were dropped when the tree was walked, so whatever the extents do
 * not cover up to the file's size is zeros.
 */
export function* isoFileChunks(image: IsoImage, entry: IsoEntry): Generator<Buffer> {
  let done = 0;
  for (const e of entry.extents) {
    for (let off = 0; off < e.length; off += CHUNK) {
      const n = Math.min(CHUNK, e.length - off);
      yield image.source.read(e.lba * SECTOR + off, n);
      done += n;
    }
  }
  if (done < entry.size) yield Buffer.alloc(entry.size - done);
}

/** The bytes of a regular file on the ISO, as one buffer. */
export function readIsoFile(image: IsoImage, entry: IsoEntry): Buffer {
  if (entry.size > MAX_BUFFER) throw new LimitError(image.source.name, undefined, `${entry.path} is ${entry.size} bytes, too large for one buffer`);
  const parts = [...isoFileChunks(image, entry)];
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, entry.size);
}
