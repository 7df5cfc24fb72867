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
  const packed = (f: number): boolean => {
    const size = sizeOf(f);
    return size > 0 && size < blockSize && !loose.has(f);
  };
  const done = new Set<number>();
  const out: number[] = [];
  let pendingRaw = 0;
  // the earliest original position among the pending block's members (Infinity: none)
  let pendingFirst = Infinity;
  let moved = 0;
  const emit = (f: number, position: number): void => {
    done.add(f);
    out.push(f);
    if (!packed(f)) return;
    const size = sizeOf(f);
    if (pendingRaw + size > blockSize) {
      pendingRaw = 0;
      pendingFirst = Infinity;
    }
    pendingRaw += size;
    pendingFirst = Math.min(pendingFirst, position);
  };
  const positionOf = new Map<number, number>();
  order.forEach((f, i) => positionOf.set(f, i));
  for (let i = 0; i < order.length; i++) {
    const f = order[i]!;
    if (done.has(f)) continue;
    if (sizeOf(f) >= blockSize && pendingFirst < i) {
      // the small files after f up to the one that no longer fits: they close the pending block
      const closing: number[] = [];
      let raw = pendingRaw;
      let closes = false;
      for (let j = i + 1; j < order.length; j++) {
        const g = order[j]!;
        if (done.has(g) || !packed(g)) continue;
        closing.push(g);
        if (raw + sizeOf(g) > blockSize) {
          closes = true;
          break;
        }
        raw += sizeOf(g);
      }
      if (closes) {
        for (const g of closing) emit(g, positionOf.get(g)!);
        moved++;
      }
    }
    emit(f, i);
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
