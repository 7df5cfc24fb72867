/**
 * The page cache (src/sim/page-cache.ts) tells a read whose pages are all cached a word of the
 * page bitmap at a time, before its page-by-page walk: the requests that reach the drive must be
 * those of the walk alone (the algorithm as first written, kept here as the reference), on reads
 * of every length and alignment, with and without readahead.
 */
import t from 'tap';
import { throughPageCache, type KernelOptions } from '../src/sim/page-cache.js';
import { mulberry32 } from '../src/sim/prng.js';
import { readsFrom, type Reads } from '../src/sim/reads.js';

function referencePageCache(reads: Reads, imageSize: number, options: KernelOptions): { offset: number; length: number; file: number; step: number }[] {
  const page = options.pageBytes ?? 4096;
  let size = imageSize;
  for (let i = 0; i < reads.count; i++) size = Math.max(size, reads.offset[i]! + reads.length[i]!);
  const pages = Math.ceil(size / page);
  const cached = new Uint8Array(pages + 1);
  const maxWindow = Math.max(0, Math.floor(options.readaheadBytes / page));
  const initialWindow = (n: number): number => {
    if (maxWindow === 0) return n;
    let w = 1;
    while (w < n) w *= 2;
    if (w <= maxWindow / 32) w *= 4;
    else if (w <= maxWindow / 4) w *= 2;
    else w = maxWindow;
    return Math.max(Math.min(w, maxWindow), 1);
  };
  const nextWindow = (current: number): number => (maxWindow === 0 ? current : Math.min(current < maxWindow / 16 ? current * 4 : current * 2, maxWindow));
  const out: { offset: number; length: number; file: number; step: number }[] = [];
  let lastWindowEnd = -1;
  let lastWindow = 0;
  for (let i = 0; i < reads.count; i++) {
    const len = reads.length[i]!;
    if (len <= 0) continue;
    const first = Math.floor(reads.offset[i]! / page);
    const end = Math.min(pages, Math.ceil((reads.offset[i]! + len) / page));
    let p = first;
    while (p < end) {
      if (cached[p]) {
        p++;
        continue;
      }
      let q = p;
      while (q < end && !cached[q]) q++;
      const window = p === lastWindowEnd ? nextWindow(lastWindow) : initialWindow(q - p);
      let stop = Math.max(q, Math.min(pages, p + window));
      for (let r = q; r < stop; r++) {
        if (cached[r]) {
          stop = r;
          break;
        }
      }
      for (let r = p; r < stop; r++) cached[r] = 1;
      out.push({ offset: p * page, length: Math.min(stop * page, size) - p * page, file: reads.file[i]!, step: reads.step[i]! });
      lastWindowEnd = stop;
      lastWindow = Math.max(stop - p, 1);
      p = stop;
    }
  }
  return out;
}

t.test('page cache: the drive sees the same requests as the page-by-page walk', (t) => {
  const random = mulberry32(77);
  let agreed = 0;
  const rounds = 300;
  for (let round = 0; round < rounds; round++) {
    const imageSize = 4096 + Math.floor(random() * (random() < 0.5 ? 1 << 20 : 1 << 26));
    const options: KernelOptions = { readaheadBytes: [0, 16384, 131072, 524288][round % 4]!, ...(round % 7 === 0 ? { pageBytes: 2048 } : {}) };
    const list: { offset: number; length: number; file: number }[] = [];
    const n = Math.floor(random() * 2000);
    let at = Math.floor(random() * imageSize);
    for (let i = 0; i < n; i++) {
      // runs of nearby reads (so pages fill up and reads hit) with jumps, some past the end, some empty
      if (random() < 0.2) at = Math.floor(random() * imageSize * 1.01);
      const length = random() < 0.05 ? 0 : random() < 0.5 ? 8192 : 1 + Math.floor(random() * 300_000);
      list.push({ offset: at, length, file: i % 13 });
      at += random() < 0.5 ? length : -Math.floor(random() * 100_000);
      at = Math.max(0, at);
    }
    const reads = readsFrom(list);
    const got = throughPageCache(reads, imageSize, options);
    const want = referencePageCache(reads, imageSize, options);
    const gotList = Array.from({ length: got.count }, (_, i) => ({ offset: got.offset[i]!, length: got.length[i]!, file: got.file[i]!, step: got.step[i]! }));
    if (JSON.stringify(gotList) !== JSON.stringify(want)) {
      t.same(gotList, want, `round ${round}`);
      break;
    }
    agreed++;
  }
  t.equal(agreed, rounds, `${rounds} random read streams give the same drive requests`);
  t.end();
});
