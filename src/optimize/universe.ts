import { closeSync, lstatSync, openSync, readFileSync, readSync, readdirSync, type BigIntStats, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InputError, LimitError, describeSystemError } from '../errors.js';
import type { Layout } from '../image/layout.js';
import { dataOwner, indexLayout } from '../image/layout-index.js';
import { deflatedLengths } from './deflate-size.js';

/**
 * What the optimizer knows of the image it plans: every profiled file's size and how well its data
 * compresses, and the rest of the squashfs summed up. From an image (or its manifest) the figures
 * are the real compressed block sizes; from a root directory, sizes come from lstat and compression
 * is estimated from a sample of each profiled file (sampleRatio): positions are then approximate,
 * but the seek structure the plan decides on is not.
 */
export interface PlannedFile {
  /** Path relative to the squashfs root ("usr/bin/bash"), as the sort file writes it. */
  rel: string;
  size: number;
  /** Compressed bytes per uncompressed byte of this file's data. */
  ratio: number;
  /** Real compressed block lengths at `Universe.baseBlockSize`, when read from an image. */
  blocks?: number[];
  /** Compressed bytes of its tail inside a fragment block, when read from an image. */
  fragmentTail?: number;
  /** Position of the file in the squashfs's walk (inode) order, 0..1: where its inode lives. */
  walkRank: number;
  /**
   * Other files with the same content that no profile names (Debian keeps pristine copies of
   * conffiles under /usr/share). mksquashfs stores identical data once, at the copy it writes
   * first: the sort file must list these after their profiled twin, or the boot reads the copy's
   * place among unprofiled files.
   */
  twins?: string[];
}

export interface Universe {
  /** Profiled regular files, indexed by the optimizer. */
  files: PlannedFile[];
  byRel: Map<string, number>;
  /** Files of the squashfs that no profile names. */
  rest: { files: number; dataBytes: number; tailBytes: number; ratio: number };
  /** Compressed metadata bytes (inode, directory, fragment, id, export, xattr tables). */
  metadata: { inode: number; directory: number; other: number };
  /** Bytes before the squashfs in the image (the ISO's own structures), 0 for a bare squashfs. */
  prefixBytes: number;
  /** Block size of the image read, or mksquashfs's default. */
  baseBlockSize: number;
  compressor?: string;
  /** Total regular files of the squashfs. */
  totalFiles: number;
  /** Where the figures come from, for messages. */
  source: 'image' | 'root';
}


/** mksquashfs's default block size. */
export const DEFAULT_BLOCK_SIZE = 131072;
/** Compression ratio when nothing could be sampled (xz on a Debian system: about 0.3 to 0.45). */
export const DEFAULT_RATIO = 0.4;
/** Compressibility is sampled from each profiled file's first bytes, up to this many bytes in all. */
const SAMPLE_BYTES = 16384;
const MAX_SAMPLED_BYTES = 32 << 20;

/** Samples are read into this much memory, then deflated together (deflatedLengths). */
const SAMPLE_BATCH_BYTES = 4 << 20;

/**
 * Compressed / raw size of each profiled file's first SAMPLE_BYTES under zlib's deflate: a stand-in
 * for the image's compressor (xz and zstd pack tighter, which --rebuild measures), far better than
 * one constant for files as different as a text config and a compressed firmware blob. Files are
 * read one by one, in the caller's order (which decides where MAX_SAMPLED_BYTES cuts), and
 * deflated a batch at a time (deflate-size.ts: one zlib state for the batch, not one per file).
 */
class SampleBatch {
  private readonly arena = Buffer.allocUnsafe(SAMPLE_BATCH_BYTES);
  private used = 0;
  private readonly pending: { id: number; start: number; raw: number }[] = [];

  /** `done(id, raw, packed)` gets each sample once its batch is deflated. */
  constructor(private readonly done: (id: number, raw: number, packed: number) => void) {}

  /** Read the sample of file `id`; its raw length, or undefined when there is nothing to sample. */
  read(path: string, size: number, id: number): number | undefined {
    if (size === 0) return undefined;
    const want = Math.min(size, SAMPLE_BYTES);
    if (this.used + want > this.arena.length) this.flush();
    let fd: number | undefined;
    try {
      fd = openSync(path, 'r');
      const n = readSync(fd, this.arena, this.used, want, 0);
      if (n === 0) return undefined;
      this.pending.push({ id, start: this.used, raw: n });
      this.used += n;
      return n;
    } catch {
      return undefined; // an unreadable file keeps the mean ratio; the sort itself reports what it cannot use
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  flush(): void {
    const lengths = deflatedLengths(this.pending.map((p) => this.arena.subarray(p.start, p.start + p.raw)));
    this.pending.forEach((p, i) => this.done(p.id, p.raw, Math.min(p.raw, lengths[i]!)));
    this.pending.length = 0;
    this.used = 0;
  }
}

/** A file's device and inode numbers (bigints where a number would lose digits). */
interface FileId {
  dev: number | bigint;
  ino: number | bigint;
}

function idOf(file: FileId): string {
  return `${file.dev}:${file.ino}`;
}

/** Bounds on the twin search: candidates per file, and bytes looked at in all (a whole file per look). */
const MAX_TWIN_CANDIDATES = 64;
const MAX_TWIN_HASH_BYTES = 512 << 20;

/**
 * Unprofiled files whose content equals a profiled file's: same size, then the same bytes. Each
 * candidate is read only until it differs (most differ in their first bytes), not hashed whole;
 * the budget still counts a whole file per look, as when every look was a SHA-256 of the file.
 */
function findTwins(root: string, files: PlannedFile[], bySize: ReadonlyMap<number, ({ rel: string } & FileId)[]>, ids: ReadonlyMap<string, FileId>): void {
  let looked = 0;
  const withinBudget = (size: number): boolean => {
    if (looked + size > MAX_TWIN_HASH_BYTES) return false;
    looked += size;
    return true;
  };
  const chunk = Buffer.allocUnsafe(64 * 1024);
  for (const f of files) {
    const sameSize = bySize.get(f.size);
    if (sameSize === undefined) continue;
    const ownId = idOf(ids.get(f.rel)!);
    const candidates = sameSize.filter((c) => idOf(c) !== ownId).slice(0, MAX_TWIN_CANDIDATES);
    if (candidates.length === 0) continue;
    if (!withinBudget(f.size)) continue;
    let own: Buffer;
    try {
      own = readFileSync(join(root, f.rel));
    } catch {
      continue; // unreadable: mksquashfs will say so when it builds
    }
    for (const c of candidates) {
      if (withinBudget(f.size) && sameContent(join(root, c.rel), own, chunk)) (f.twins ??= []).push(c.rel);
    }
  }
}

/** Whether the file at `path` holds exactly `bytes` (false when it cannot be read). */
function sameContent(path: string, bytes: Buffer, chunk: Buffer): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    let at = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, at);
      if (n === 0) return at === bytes.length;
      if (at + n > bytes.length || chunk.compare(bytes, at, at + n, 0, n) !== 0) return false;
      at += n;
    }
  } catch {
    return false; // unreadable: mksquashfs will say so when it builds
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A walk that finds more regular files than this is not a live system's root. */
const MAX_ROOT_FILES = 20_000_000;

/** The universe of an image: `rels` are the profiled files' paths relative to its squashfs root. */
export function universeFromLayout(layout: Layout, rels: readonly string[]): Universe {
  const index = indexLayout(layout);
  const blockSize = layout.blockSize !== undefined && layout.blockSize > 0 ? layout.blockSize : DEFAULT_BLOCK_SIZE;
  const squashfsFiles: number[] = [];
  layout.files.forEach((f, i) => {
    if (f.layer === 'squashfs') squashfsFiles.push(i);
  });
  const walkRankOf = new Map<number, number>();
  squashfsFiles.forEach((f, i) => walkRankOf.set(f, i / Math.max(1, squashfsFiles.length)));
  const tailShare = fragmentShares(layout, blockSize);
  const files: PlannedFile[] = [];
  const byRel = new Map<string, number>();
  const profiledOwners = new Set<number>();
  const plannedByOwner = new Map<number, number>();
  const plannedInode = new Map<number, number>();
  for (const rel of rels) {
    if (byRel.has(rel)) continue;
    const file = index.byPath.get(`/${rel}`);
    if (file === undefined || layout.files[file]!.layer !== 'squashfs') continue;
    const owner = dataOwner(index, file);
    if (profiledOwners.has(owner)) continue; // a second name of data already planned
    profiledOwners.add(owner);
    const entry = layout.files[owner]!;
    const blocks = index.data[owner]!.filter((e) => e.kind === 'data-block').map((e) => e.length);
    const fragmentTail = tailShare.get(owner) ?? 0;
    const compressed = blocks.reduce((n, b) => n + b, 0) + fragmentTail;
    const planned: PlannedFile = {
      rel,
      size: entry.size,
      ratio: entry.size > 0 ? Math.min(1.05, compressed / entry.size) : 1,
      blocks,
      walkRank: walkRankOf.get(file) ?? 0,
    };
    if (fragmentTail > 0) planned.fragmentTail = fragmentTail;
    plannedByOwner.set(owner, files.length);
    if (layout.files[file]!.inode !== undefined) plannedInode.set(files.length, layout.files[file]!.inode!);
    byRel.set(rel, files.length);
    files.push(planned);
  }
  const profiled = new Set(rels);
  for (const f of squashfsFiles) {
    const owner = dataOwner(index, f);
    const planned = plannedByOwner.get(owner);
    if (planned === undefined || files[planned]!.size === 0) continue; // empty files have no data to share
    const path = layout.files[f]!.path;
    const twin = path.replace(/^\/+/, '');
    // a copy is a name no profile gives: a second profiled name of the same data is listed by the sort already
    if (twin === files[planned]!.rel || profiled.has(twin)) continue;
    // a hardlink is the same inode, not a copy: mksquashfs writes its data once whatever the order
    const inode = layout.files[f]!.inode;
    if (inode !== undefined && inode === plannedInode.get(planned)) continue;
    (files[planned]!.twins ??= []).push(twin);
  }
  let restData = 0;
  let restTail = 0;
  let restRaw = 0;
  let restFiles = 0;
  for (const f of squashfsFiles) {
    const owner = dataOwner(index, f);
    if (owner !== f || profiledOwners.has(owner)) continue;
    restFiles++;
    const size = layout.files[f]!.size;
    restRaw += size;
    for (const e of index.data[f]!) if (e.kind === 'data-block') restData += e.length;
    restTail += tailShare.get(f) ?? 0;
  }
  const metadata = { inode: 0, directory: 0, other: 0 };
  for (const e of layout.extents) {
    if (e.kind === 'inode-table') metadata.inode += e.length;
    else if (e.kind === 'directory-table') metadata.directory += e.length;
    else if (e.kind.endsWith('-table') && !e.kind.startsWith('iso')) metadata.other += e.length;
  }
  const universe: Universe = {
    files,
    byRel,
    rest: {
      files: restFiles,
      dataBytes: restData,
      tailBytes: restTail,
      ratio: restRaw > 0 ? Math.min(1.05, (restData + restTail) / restRaw) : DEFAULT_RATIO,
    },
    metadata,
    prefixBytes: layout.squashfsOffset ?? 0,
    baseBlockSize: blockSize,
    totalFiles: squashfsFiles.length,
    source: 'image',
  };
  if (layout.compressor !== undefined) universe.compressor = layout.compressor;
  return checkPlanSize(universe, layout.source);
}

/**
 * Every candidate layout places each block of each profiled file: past this many blocks (at the
 * image's block size) the plans would not fit in memory. 2^19 blocks is 64 GiB of profiled data at
 * mksquashfs's default block size, far beyond any live system's boot; a root or manifest that needs
 * more is refused with the largest file named. A file read from an image is placed by its stored
 * blocks, not its size (sparse blocks take no room): a manifest claiming a 4 GiB file in a 100 KiB
 * image (found by fuzzing) costs only the blocks it has.
 */
export const MAX_PLANNED_BLOCKS = 1 << 19;

function checkPlanSize(universe: Universe, source: string): Universe {
  const B = universe.baseBlockSize;
  let blocks = 0;
  let largest: PlannedFile | undefined;
  for (const f of universe.files) {
    blocks += f.blocks !== undefined ? f.blocks.length + 1 : Math.ceil(f.size / B);
    if (largest === undefined || f.size > largest.size) largest = f;
  }
  if (blocks > MAX_PLANNED_BLOCKS && largest !== undefined) {
    throw new LimitError(
      source,
      undefined,
      `the profiled files hold ${blocks} blocks of ${B} bytes, more than the optimizer plans (${MAX_PLANNED_BLOCKS}); the largest is /${largest.rel} (${largest.size} bytes)`,
    );
  }
  return universe;
}

/** Each fragment block's compressed bytes shared out among its files by the length of their tails. */
function fragmentShares(layout: Layout, blockSize: number): Map<number, number> {
  const share = new Map<number, number>();
  for (const e of layout.extents) {
    if (e.kind !== 'fragment-block' || !e.files || e.files.length === 0) continue;
    const tails = e.files.map((f) => (layout.files[f]?.size ?? 0) % blockSize);
    const total = tails.reduce((n, t) => n + t, 0);
    e.files.forEach((f, i) => {
      const part = total > 0 ? (e.length * tails[i]!) / total : e.length / e.files!.length;
      share.set(f, (share.get(f) ?? 0) + part);
    });
  }
  return share;
}

/**
 * The universe of a root directory (the tree given to mksquashfs): a walk in mksquashfs's order
 * (entries sorted by name), sizes from lstat, hardlinks counted once.
 */
export function universeFromRoot(root: string, rels: readonly string[]): Universe {
  const wanted = new Set(rels);
  // each profiled file found: its walk rank, size and inode
  const found = new Map<string, { rank: number; size: number } & FileId>();
  let restRaw = 0;
  let restTailRaw = 0;
  let restFiles = 0;
  let total = 0;
  let entries = 0;
  const seenInodes = new Set<string>();
  // unprofiled regular files by size: the candidates for being a profiled file's twin
  const bySize = new Map<number, ({ rel: string } & FileId)[]>();
  const walk = (dir: string): void => {
    const dirPath = join(root, dir);
    let names: string[];
    try {
      names = readdirSync(dirPath).sort();
    } catch (err) {
      throw new InputError(`cannot read --root ${describeSystemError(dirPath, err)}`, { cause: err });
    }
    for (const name of names) {
      entries++;
      const rel = dir === '' ? name : `${dir}/${name}`;
      let st: Stats | BigIntStats;
      try {
        // numbers, not bigints (a BigIntStats costs twice as much); a 64-bit inode number past
        // 2^53 would lose digits, and the file's id must be exact: those are read again as bigints
        st = lstatSync(`${dirPath}/${name}`);
        if (!Number.isSafeInteger(st.ino) || !Number.isSafeInteger(st.dev)) st = lstatSync(`${dirPath}/${name}`, { bigint: true });
      } catch (err) {
        throw new InputError(`cannot read --root ${describeSystemError(join(root, rel), err)}`, { cause: err });
      }
      if (st.isDirectory()) {
        walk(rel);
        continue;
      }
      if (!st.isFile()) continue;
      if (++total > MAX_ROOT_FILES) throw new LimitError(root, undefined, `more than ${MAX_ROOT_FILES} files under --root`);
      const size = Number(st.size);
      const linked = Number(st.nlink) > 1;
      // the inode's id as text only where it is compared now (hardlinks); twins compare theirs later
      const id = linked ? idOf(st) : '';
      if (wanted.has(rel)) {
        found.set(rel, { rank: total, size, dev: st.dev, ino: st.ino });
      } else if (!(linked && seenInodes.has(id))) {
        if (size > 0) {
          let list = bySize.get(size);
          if (list === undefined) bySize.set(size, (list = []));
          list.push({ rel, dev: st.dev, ino: st.ino });
        }
        restFiles++;
        restRaw += size;
        if (size < DEFAULT_BLOCK_SIZE) restTailRaw += size;
      }
      if (linked) seenInodes.add(id);
    }
  };
  walk('');
  const files: PlannedFile[] = [];
  const byRel = new Map<string, number>();
  let sampledRaw = 0;
  let sampledPacked = 0;
  const samples = new SampleBatch((id, raw, packed) => {
    files[id]!.ratio = packed / raw;
    sampledPacked += packed;
  });
  for (const rel of rels) {
    const hit = found.get(rel);
    if (hit === undefined || byRel.has(rel)) continue;
    const size = hit.size;
    byRel.set(rel, files.length);
    files.push({ rel, size, ratio: NaN, walkRank: hit.rank / Math.max(1, total) });
    const raw = sampledRaw < MAX_SAMPLED_BYTES ? samples.read(join(root, rel), size, files.length - 1) : undefined;
    if (raw !== undefined) sampledRaw += raw;
  }
  samples.flush();
  findTwins(root, files, bySize, found);
  // the profiled files' mean ratio stands in for files not sampled, and for the rest of the tree
  const mean = sampledRaw > 0 ? sampledPacked / sampledRaw : DEFAULT_RATIO;
  for (const f of files) if (Number.isNaN(f.ratio)) f.ratio = mean;
  return checkPlanSize({
    files,
    byRel,
    rest: {
      files: restFiles,
      dataBytes: (restRaw - restTailRaw) * mean,
      tailBytes: restTailRaw * mean,
      ratio: mean,
    },
    // an inode is about 32 to 64 bytes and a directory entry about 8 + its name, before compression
    metadata: { inode: total * 48 * 0.35, directory: entries * 24 * 0.35, other: Math.max(4096, total * 8 * 0.5) },
    prefixBytes: 0,
    baseBlockSize: DEFAULT_BLOCK_SIZE,
    totalFiles: total,
    source: 'root',
  }, root);
}
