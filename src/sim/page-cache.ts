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
  let size = imageSize;
  for (let i = 0; i < reads.count; i++) size = Math.max(size, reads.offset[i]! + reads.length[i]!);
  const cache = new PageCache(size, options);
  const out = new ReadsBuilder();
  for (let i = 0; i < reads.count; i++) cache.read(reads.offset[i]!, reads.length[i]!, reads.file[i]!, reads.step[i]!, out);
  return out.build();
}

/** Where the page cache sends the readahead requests that reach the drive. */
export interface ReadSink {
  push(offset: number, length: number, file: number, step: number): void;
}

/**
 * The page cache of one boot, read by read (throughPageCache, and the optimizer's replays, which
 * feed it without a read list in between). `size` is the image's size, or more when a read
 * goes past its end: readahead stops at the last page.
 */
export class PageCache {
  private readonly page: number;
  private readonly pages: number;
  private readonly cached: Uint32Array;
  private readonly maxWindow: number;
  private lastWindowEnd = -1;
  private lastWindow = 0;

  constructor(
    private readonly size: number,
    options: KernelOptions,
  ) {
    if (size > MAX_IMAGE_BYTES) throw new InputError(`image of ${size} bytes is past the simulator's 1 TiB limit`);
    this.page = options.pageBytes ?? 4096;
    this.pages = Math.ceil(size / this.page);
    this.cached = new Uint32Array(Math.ceil(this.pages / 32) + 1);
    this.maxWindow = Math.max(0, Math.floor(options.readaheadBytes / this.page));
  }

  /** One read of the boot: the requests it makes of the drive (none when its pages are cached) go to `out`. */
  read(offset: number, len: number, file: number, step: number, out: ReadSink): void {
    if (len <= 0) return;
    const page = this.page;
    const pages = this.pages;
    const cached = this.cached;
    const first = Math.floor(offset / page);
    const end = Math.min(pages, Math.ceil((offset + len) / page));
    // most reads of a boot hit the cache: tell so a word (32 pages) at a time
    if (this.allCached(first, end)) return;
    let p = first;
    while (p < end) {
      if (isCached(cached, p)) {
        p++;
        continue;
      }
      let q = p;
      while (q < end && !isCached(cached, q)) q++;
      const missing = q - p;
      const window = p === this.lastWindowEnd ? nextWindow(this.lastWindow, this.maxWindow) : initialWindow(missing, this.maxWindow);
      let stop = Math.max(q, Math.min(pages, p + window));
      // readahead stops at the first page already in the cache
      for (let r = q; r < stop; r++) {
        if (isCached(cached, r)) {
          stop = r;
          break;
        }
      }
      for (let r = p; r < stop; r++) cached[r >>> 5] = cached[r >>> 5]! | (1 << (r & 31));
      out.push(p * page, Math.min(stop * page, this.size) - p * page, file, step);
      this.lastWindowEnd = stop;
      this.lastWindow = Math.max(stop - p, 1);
      p = stop;
    }
  }

  /** Whether every page in [first, end) is cached. */
  private allCached(first: number, end: number): boolean {
    for (let p = first; p < end; ) {
      const word = p >>> 5;
      const from = p & 31;
      const to = Math.min(32, end - (word << 5));
      // bits from..to-1 of the word
      const mask = ((to === 32 ? 0xffffffff : (1 << to) - 1) & ~((1 << from) - 1)) >>> 0;
      if (((this.cached[word]! & mask) >>> 0) !== mask) return false;
      p = (word + 1) << 5;
    }
    return true;
  }
}

function isCached(cached: Uint32Array, p: number): boolean {
  return (cached[p >>> 5]! & (1 << (p & 31))) !== 0;
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
