/**
 * Random optimizer inputs for property tests: universes (from a root or an image, sparse blocks,
 * empty files, a prefix, no metadata) and boots over them (timed or not, repeats, zero-length and
 * past-the-end reads).
 */
import type { Boot } from '../../src/optimize/boots.js';
import type { PlannedFile, Universe } from '../../src/optimize/universe.js';

/** The universes' block size (mksquashfs's default). */
export const BASE = 131072;

export function randomUniverse(random: () => number): Universe {
  const n = 1 + Math.floor(random() * 80);
  const fromImage = random() < 0.5;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const files: PlannedFile[] = [];
  for (let i = 0; i < n; i++) {
    const r = random();
    const size = r < 0.08 ? 0 : r < 0.12 ? BASE * (1 + Math.floor(random() * 3)) : r < 0.35 ? BASE + Math.floor(random() * 12 * BASE) : Math.floor(random() * BASE);
    const ratio = random() < 0.1 ? 1.05 : 0.1 + random() * 0.8;
    const file: PlannedFile = { rel: `d${i % 7}/f${i}`, size, ratio, walkRank: random() };
    if (fromImage) {
      const full = Math.floor(size / BASE);
      // sparse blocks are left out of an image's block list
      const kept = random() < 0.1 ? Math.floor(random() * full) : full;
      file.blocks = Array.from({ length: kept }, () => (random() < 0.05 ? 0 : 1 + Math.floor(random() * BASE)));
      if (size % BASE > 0 && random() < 0.8) file.fragmentTail = (size % BASE) * ratio * (0.5 + random());
    }
    files.push(file);
  }
  const metadata = random() < 0.15 ? { inode: 0, directory: 0.4, other: 0 } : { inode: random() * 300_000, directory: random() * 100_000, other: random() * 9000 };
  return {
    files,
    byRel: new Map(files.map((f, i) => [f.rel, i])),
    rest: { files: 50, dataBytes: random() < 0.1 ? 0 : random() * (40 << 20), tailBytes: random() < 0.1 ? 0 : random() * (2 << 20), ratio: random() < 0.05 ? 0 : 0.2 + random() * 0.6 },
    metadata,
    prefixBytes: random() < 0.3 ? Math.floor(random() * 4 << 20) : 0,
    baseBlockSize: BASE,
    totalFiles: n + Math.floor(random() * 3000),
    source: fromImage ? 'image' : 'root',
    ...(random() < 0.5 ? { compressor: pick(['gzip', 'xz']) } : {}),
  };
}

export function randomBoots(u: Universe, random: () => number): Boot[] {
  const boots: Boot[] = [];
  const count = 1 + Math.floor(random() * 2);
  for (let b = 0; b < count; b++) {
    const timed = random() < 0.8;
    const accesses: Boot['accesses'] = [];
    const n = Math.floor(random() * (random() < 0.1 ? 4000 : 300));
    let time = 0;
    for (let k = 0; k < n; k++) {
      const file = Math.floor(random() * u.files.length);
      const size = u.files[file]!.size;
      const r = random();
      const offset = r < 0.5 ? 0 : Math.floor(random() * (size + 10_000));
      const length = r < 0.1 ? 0 : r < 0.5 ? size : Math.floor(random() * 3 * BASE);
      time += Math.floor(random() * 1e6);
      accesses.push({ file, offset, length, time, pid: Math.floor(random() * 6) });
    }
    boots.push({ source: `boot${b}`, accesses, timed });
  }
  return boots;
}

