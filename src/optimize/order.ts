import type { Boot } from './boots.js';

/**
 * Candidate orders of the planned files (indexes into Universe.files), each a different answer to
 * "what will the next boot read after this?". The cost model picks among them (plan.ts).
 */

/** First access, averaged over boots: each file at its mean relative position (0 = first, 1 = last). */
export function firstAccessOrder(boots: readonly Boot[], fileCount: number): number[] {
  const sum = new Float64Array(fileCount);
  const count = new Uint32Array(fileCount);
  for (const boot of boots) {
    const seen = new Set<number>();
    const n = Math.max(1, boot.accesses.length - 1);
    boot.accesses.forEach((a, i) => {
      if (seen.has(a.file)) return;
      seen.add(a.file);
      sum[a.file]! += i / n;
      count[a.file]!++;
    });
  }
  return sortByKey(fileCount, (f) => (count[f]! > 0 ? sum[f]! / count[f]! : Infinity));
}

/**
 * Process runs: the accesses of one process, with no pause longer than `gap` between them, form a
 * run; runs are ordered by when they start and each run's files stay together, in the order the
 * process read them. Where two processes read at the same time, the recorded order interleaves
 * their files, and the next boot interleaves them differently; laid out run by run, each process
 * reads its files front to back whichever of them goes first. Boots without process ids fall back
 * to their recorded order.
 */
export function processRunOrder(boots: readonly Boot[], fileCount: number, gapOf: (boot: Boot) => number): number[] {
  const sum = new Float64Array(fileCount);
  const count = new Uint32Array(fileCount);
  for (const boot of boots) {
    if (boot.accesses.length === 0) continue;
    const gap = boot.timed ? gapOf(boot) : 0;
    const runStart = new Map<number, { start: number; last: number; rank: number }>();
    let first = Infinity;
    let last = -Infinity;
    for (const a of boot.accesses) {
      first = Math.min(first, a.time);
      last = Math.max(last, a.time);
    }
    const span = Math.max(1, last - first);
    const seen = new Set<number>();
    let within = 0;
    for (const a of boot.accesses) {
      let run = runStart.get(a.pid);
      if (!boot.timed || run === undefined || a.time - run.last > gap) {
        run = { start: a.time, last: a.time, rank: 0 };
        runStart.set(a.pid, run);
      }
      run.last = a.time;
      if (seen.has(a.file)) continue;
      seen.add(a.file);
      // the run's start orders runs; the position inside the run breaks ties (a tiny fraction of the span)
      const key = (run.start - first) / span + (++within / boot.accesses.length) * 1e-9;
      sum[a.file]! += key;
      count[a.file]!++;
    }
  }
  return sortByKey(fileCount, (f) => (count[f]! > 0 ? sum[f]! / count[f]! : Infinity));
}

/** Move `deferred` files after all others, keeping the relative order of both groups. */
export function deferFiles(order: readonly number[], deferred: ReadonlySet<number>): number[] {
  return [...order.filter((f) => !deferred.has(f)), ...order.filter((f) => deferred.has(f))];
}

/**
 * mksquashfs writes a fragment block only when the next small file does not fit into it, so the
 * small files read just before a large file land behind that file's blocks: the boot jumps over
 * the large file to them and back. Before each large file that a pending fragment member was read
 * ahead of, this brings forward the small files that fill the block and the one that closes it.
 * Every fragment block keeps exactly the members it had; only its position moves ahead of the
 * large files. `blockSize` is mksquashfs -b; `loose` are files kept out of the fragments.
 */
export function closeFragmentsEarly(
  order: readonly number[],
  sizeOf: (file: number) => number,
  blockSize: number,
  loose: ReadonlySet<number>,
): { order: number[]; moved: number } {
  const n = order.length;
  const packedSize = new Float64Array(n);
  // packedBefore[k]: raw bytes of the packed (fragment) files at positions before k
  const packedBefore = new Float64Array(n + 1);
  for (let k = 0; k < n; k++) {
    const f = order[k]!;
    const size = sizeOf(f);
    packedSize[k] = size > 0 && size < blockSize && !loose.has(f) ? size : 0;
    packedBefore[k + 1] = packedBefore[k]! + packedSize[k]!;
  }
  const out: number[] = [];
  let pendingRaw = 0;
  // the earliest position among the pending block's members (Infinity: none)
  let pendingFirst = Infinity;
  // every packed file after the current position and up to here was already brought forward
  let pulledUpTo = -1;
  let moved = 0;
  const emit = (k: number): void => {
    out.push(order[k]!);
    const size = packedSize[k]!;
    if (size === 0) return;
    if (pendingRaw + size > blockSize) {
      pendingRaw = 0;
      pendingFirst = Infinity;
    }
    pendingRaw += size;
    pendingFirst = Math.min(pendingFirst, k);
  };
  for (let i = 0; i < n; i++) {
    if (i <= pulledUpTo && packedSize[i]! > 0) continue; // brought forward already
    if (sizeOf(order[i]!) >= blockSize && pendingFirst < i) {
      // the first position after i where the packed files from there on no longer fit the block
      const from = Math.max(i, pulledUpTo) + 1;
      const room = blockSize - pendingRaw;
      let lo = from;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (packedBefore[mid + 1]! - packedBefore[from]! > room) hi = mid;
        else lo = mid + 1;
      }
      if (lo < n) {
        for (let k = from; k <= lo; k++) if (packedSize[k]! > 0) emit(k);
        pulledUpTo = lo;
        moved++;
      }
    }
    emit(i);
  }
  return { order: out, moved };
}

function sortByKey(n: number, key: (f: number) => number): number[] {
  const keys = new Float64Array(n);
  const order: number[] = [];
  for (let f = 0; f < n; f++) {
    keys[f] = key(f);
    order.push(f);
  }
  order.sort((a, b) => keys[a]! - keys[b]! || a - b);
  return order;
}
