import { InputError } from '../errors.js';
import { ReadsBuilder, type Reads } from './reads.js';

/**
 * The guest kernel between squashfs and the drive (docs/formats.md §6): squashfs reads
 * whole blocks through the loop device, whose backing file's page cache (on isofs) turns misses into
 * readahead requests of up to read_ahead_kb (128 KiB on sr0). Pages stay cached for the whole boot
 * (a boot reads far less than RAM), so a re-read never reaches the drive.
 *
 * Readahead follows mm/readahead.c in outline: the first window of a read of n pages is
 * roundup_pow_of_two(n) times 4 (small reads) or 2 (medium), capped at the maximum; a miss that
 * continues where the previous window ended grows the window (x4 while small, then x2).
 */
export interface KernelOptions {
  /** Maximum readahead window in bytes (read_ahead_kb * 1024); 0 turns readahead off. */
  readaheadBytes: number;
  pageBytes?: number;
}

export const DEFAULT_READAHEAD_BYTES = 128 * 1024;
/** A page bitmap for more than 1 TiB of image would be out of proportion for a live image. */
const MAX_IMAGE_BYTES = 2 ** 40;

export function throughPageCache(reads: Reads, imageSize: number, options: KernelOptions): Reads {
  const page = options.pageBytes ?? 4096;
  let size = imageSize;
  for (let i = 0; i < reads.count; i++) size = Math.max(size, reads.offset[i]! + reads.length[i]!);
  if (size > MAX_IMAGE_BYTES) throw new InputError(`image of ${size} bytes is past the simulator's 1 TiB limit`);
  const pages = Math.ceil(size / page);
  const cached = new Uint32Array(Math.ceil(pages / 32) + 1);
  const isCached = (p: number): boolean => (cached[p >>> 5]! & (1 << (p & 31))) !== 0;
  const maxWindow = Math.max(0, Math.floor(options.readaheadBytes / page));
  const out = new ReadsBuilder();
  let lastWindowEnd = -1;
  let lastWindow = 0;
  for (let i = 0; i < reads.count; i++) {
    const len = reads.length[i]!;
    if (len <= 0) continue;
    const first = Math.floor(reads.offset[i]! / page);
    const end = Math.min(pages, Math.ceil((reads.offset[i]! + len) / page));
    let p = first;
    while (p < end) {
      if (isCached(p)) {
        p++;
        continue;
      }
      let q = p;
      while (q < end && !isCached(q)) q++;
      const missing = q - p;
      const window = p === lastWindowEnd ? nextWindow(lastWindow, maxWindow) : initialWindow(missing, maxWindow);
      let stop = Math.max(q, Math.min(pages, p + window));
      // readahead stops at the first page already in the cache
      for (let r = q; r < stop; r++) {
        if (isCached(r)) {
          stop = r;
          break;
        }
      }
      for (let r = p; r < stop; r++) cached[r >>> 5] = cached[r >>> 5]! | (1 << (r & 31));
      out.push(p * page, Math.min(stop * page, size) - p * page, reads.file[i]!, reads.step[i]!);
      lastWindowEnd = stop;
      lastWindow = Math.max(stop - p, 1);
      p = stop;
    }
  }
  return out.build();
}

function initialWindow(pages: number, max: number): number {
  if (max === 0) return pages;
  let n = 1;
  while (n < pages) n *= 2;
  if (n <= max / 32) n *= 4;
  else if (n <= max / 4) n *= 2;
  else n = max;
  return Math.max(Math.min(n, max), 1);
}

function nextWindow(current: number, max: number): number {
  if (max === 0) return current;
  return Math.min(current < max / 16 ? current * 4 : current * 2, max);
}
