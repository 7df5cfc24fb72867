import { InputError } from '../errors.js';
import { firstEndingAfter, type Extent, type Layout } from '../image/layout.js';

/**
 * Which owners of the blocks a block trace read were wanted by the boot, and which were only read
 * along with them.
 *
 * A device read names more files than the boot opened, for two reasons:
 * (a) a squashfs fragment block holds the tails of many small files: one read of it names them all;
 * (b) readahead (the kernel's on the loop device's backing file, the drive's own) reads past what
 *     was asked: a request that starts in file A's blocks runs on into B, C, D.
 * Measured on a real Debian live boot's qemu trace, 954 files entered the profile for about 100 the
 * boot opened, in image order, and the sort built from it was worse than the seed's recipe.
 *
 * So owners are weighed by evidence (`owners: 'evidence'`, the default; `'all'` is the old rule:
 * every owner of every block read). Rules, and why (figures: docs/capture-methods.md; on the VM
 * boot's CD trace, precision 0.919 -> 0.966, recall 1.000 -> 0.824: files a window ran over and the
 * boot opened later, from the cache, leave no read of their own in a CD trace):
 *
 * 1. Only the start of a request is a demand. Linux readahead (mm/readahead.c, ondemand) starts its
 *    synchronous window at the page that missed, so the first page of a request that does not
 *    continue an earlier one (a "head") holds data something asked for. A request that starts
 *    exactly where an earlier one of the same device ended is a readahead window ("continuation"):
 *    the kernel issues window k+1 when the reader reaches the marker page at the start of window k,
 *    so window k's start was wanted only if a later request continues it. A last window that no
 *    request continues (and that does not run up to data already read, where readahead stops
 *    because the pages are cached) is read ahead and never used: it evidences nothing. On the real
 *    VM capture (test/fixtures/trace/captured) every head is a 4 KiB request and every window
 *    after it continues the one before: this is the pattern.
 * 2. The start of a head is rounded down to a page (4 KiB in the backing file, 1 KiB for loop
 *    bios, 2 KiB CD sectors), so the demanded byte lies within its first START_SLOP bytes. The
 *    evidenced block is the one holding the first byte if the request starts exactly on it, else
 *    the first block that begins inside that first page (the block before it was only grazed),
 *    else the block holding the first byte. The grazed block counts too when an earlier request
 *    already read part of it: then this request is the one that completes it (its tail was wanted).
 *    The block need not be covered whole by the head (a 4 KiB head rarely covers a squashfs block:
 *    the windows after it complete it), only begin within its first page.
 *    A window's start is not rounded (it is where the previous window ended) and the reader walked
 *    into it from the block that holds its first byte: that block is the evidenced one.
 * 3. A data block evidences its file. A fragment block with one owner evidences that owner. A
 *    fragment block shared by several files evidences the sharers that have evidence of their own
 *    (a data block, or a file event naming them: open, exec, read, fault); if none of them has, the
 *    block read cannot tell them apart and every sharer is kept (a small file lives only in its
 *    fragment, so dropping them would drop exactly the small files a boot reads: /etc/passwd).
 * 4. Files stored on the ISO itself (kernel, initrd: read by the boot loader) and file events are
 *    always evidence.
 * 5. Files whose blocks were read but that have none of this evidence are "weak": run over by a
 *    readahead window, or co-owners of a fragment block with an evidenced sharer. They are left
 *    out of the profile and counted (MappedTrace.owners).
 *
 * An evidenced file is placed at the read that evidenced it: block reads of it that came earlier
 * (run over by readahead before anything asked for it) are reported at that read.
 *
 * Reads in squashfs coordinates (a loop device's bios, the module's sqread) are the ones squashfs
 * itself issued, with no page-cache readahead in between: for them rules 1 and 2 are replaced by
 * "every block the read covers whole" (wholeBlocks), and only rule 3 (fragments) applies. A
 * profiling build made with `mksquashfs -no-fragments` removes (a) entirely: measured on a real
 * boot, the loop device's trace of such a build names exactly the files opened
 * (docs/capture-methods.md).
 */
export type BlockOwners = 'evidence' | 'all';
export const BLOCK_OWNERS: readonly BlockOwners[] = ['evidence', 'all'];

/** The value of a `--block-owners` option. */
export function parseBlockOwners(text: string): BlockOwners {
  if (text === 'evidence' || text === 'all') return text;
  throw new InputError(`--block-owners ${JSON.stringify(text)}: expected evidence or all`);
}

/**
 * One line for stderr about what the owner rule did with a mapped trace, or undefined when no block
 * read named a file without evidence. `source` names the trace.
 */
export function describeOwners(source: string, owners: { mode: BlockOwners; evidenced: number; weak: number; weakFragment: number; weakReadahead: number; weakBytes: number }): string | undefined {
  if (owners.weak === 0) return undefined;
  const what =
    `${owners.weak} file(s) whose blocks were read without evidence that the boot wanted them ` +
    `(${owners.weakReadahead} only run over by readahead, ${owners.weakFragment} sharing a fragment block with a wanted file; ` +
    `${owners.weakBytes} bytes read only for them)`;
  return owners.mode === 'evidence'
    ? `${source}: left out ${what}; --block-owners all keeps them`
    : `${source}: kept (--block-owners all) ${what}`;
}

/** Bytes from a request's start within which the demanded byte lies (one page). */
export const START_SLOP = 4096;

export interface BlockRequest {
  seq: number;
  device: string;
  /** Image coordinates, [start, end); end > start (a zero-length read is given one byte). */
  start: number;
  end: number;
  /**
   * The reads squashfs itself issued (a loop device's bios, the module's sqread): no page-cache
   * readahead lies between squashfs and these (squashfs's own readahead reads more blocks of the same
   * file), so every block a read covers whole was asked for.
   */
  exact?: boolean;
}

export interface OwnerAssessment {
  /** layout.files index -> seq of the first read or event that evidences it. */
  evidence: Map<number, number>;
  /** seq -> files first evidenced there (to release reads held back until then). */
  evidencedAt: Map<number, number[]>;
  /** Files whose fragment block was read with evidence while a sharer had evidence of its own. */
  fragmentShared: Set<number>;
  /** Requests that evidenced a block. */
  demandReads: number;
  /** Readahead windows that no request continued: they evidence nothing. */
  unusedWindows: number;
}

const isBlock = (e: Extent): boolean => e.kind === 'data-block' || e.kind === 'fragment-block' || e.kind === 'iso-file';

/**
 * Evidence from a trace's block requests (in seq order) and the files its file events name
 * (`named`: layout.files index -> seq of the first event).
 */
export function assessOwners(layout: Layout, requests: readonly BlockRequest[], named: ReadonlyMap<number, number>): OwnerAssessment {
  const extents = layout.extents;
  const own = new Map<number, number>(named);
  const fragmentSeq = new Map<number, number>();
  const give = (map: Map<number, number>, file: number, seq: number): void => {
    if (layout.files[file] === undefined) return;
    const had = map.get(file);
    if (had === undefined || seq < had) map.set(file, seq);
  };

  // starts of every request per device: a window that runs up to another read was not wasted
  const starts = new Map<string, Set<number>>();
  for (const r of requests) {
    let s = starts.get(r.device);
    if (s === undefined) starts.set(r.device, (s = new Set()));
    s.add(r.start);
  }
  const endsSoFar = new Map<string, Set<number>>();
  /** Extents (by index) that an earlier request overlapped. */
  const touched = new Uint8Array(extents.length);
  const evidenced: number[] = [];
  let demandReads = 0;
  let unusedWindows = 0;

  for (const r of requests) {
    let ends = endsSoFar.get(r.device);
    if (ends === undefined) endsSoFar.set(r.device, (ends = new Set()));
    const continuation = ends.has(r.start);
    ends.add(r.end);
    const first = firstEndingAfter(extents, r.start);
    let last = first;
    while (last < extents.length && extents[last]!.start < r.end) last++;
    const used = r.exact === true || !continuation || starts.get(r.device)!.has(r.end);
    if (!used) unusedWindows++;
    else {
      evidenced.length = 0;
      if (r.exact === true) wholeBlocks(extents, first, last, r, touched, evidenced);
      else startBlocks(extents, first, last, r, touched, continuation, evidenced);
      if (evidenced.length > 0) demandReads++;
      for (const k of evidenced) {
        const e = extents[k]!;
        if (e.kind === 'fragment-block') {
          const owners = (e.files ?? []).filter((i) => layout.files[i] !== undefined);
          if (owners.length === 1) give(own, owners[0]!, r.seq);
          else if (owners.length > 1 && !fragmentSeq.has(k)) fragmentSeq.set(k, r.seq);
        } else if (e.kind === 'data-block') {
          if (e.files === undefined) give(own, e.file!, r.seq);
          else for (const i of e.files) give(own, i, r.seq);
        }
      }
    }
    for (let k = first; k < last; k++) {
      const e = extents[k]!;
      touched[k] = 1;
      // files on the ISO are read by the boot loader or as plain files: any read is evidence
      if (e.kind === 'iso-file' && e.file !== undefined) give(own, e.file, r.seq);
    }
  }

  const evidence = new Map(own);
  const fragmentShared = new Set<number>();
  for (const [k, seq] of fragmentSeq) {
    const sharers = (extents[k]!.files ?? []).filter((i) => layout.files[i] !== undefined);
    if (sharers.some((i) => own.has(i))) {
      for (const i of sharers) if (!own.has(i)) fragmentShared.add(i);
      continue;
    }
    for (const i of sharers) give(evidence, i, seq);
  }
  for (const i of fragmentShared) if (evidence.has(i)) fragmentShared.delete(i);

  const evidencedAt = new Map<number, number[]>();
  for (const [file, seq] of evidence) {
    const list = evidencedAt.get(seq);
    if (list === undefined) evidencedAt.set(seq, [file]);
    else list.push(file);
  }
  return { evidence, evidencedAt, fragmentShared, demandReads, unusedWindows };
}

/**
 * The blocks a read squashfs issued was for (extents[first..last) overlap it): every block it covers
 * whole (a bio rounded to 1 KiB may also cover a neighbour of under 1 KiB whole: tiny files, read at
 * the same time), and the block holding its first byte when an earlier read had begun it (a block
 * read in two bios).
 */
function wholeBlocks(extents: readonly Extent[], first: number, last: number, r: BlockRequest, touched: Uint8Array, out: number[]): void {
  for (let k = first; k < last; k++) {
    const e = extents[k]!;
    if (!isBlock(e)) continue;
    if ((e.start >= r.start && e.start + e.length <= r.end) || (e.start < r.start && touched[k] === 1)) out.push(k);
  }
}

/** The block(s) a request was issued for (rule 2 above), of extents[first..last) that overlap it. */
function startBlocks(extents: readonly Extent[], first: number, last: number, r: BlockRequest, touched: Uint8Array, continuation: boolean, out: number[]): void {
  if (first >= last) return;
  const e0 = extents[first]!;
  const holdsStart = e0.start <= r.start;
  // a window's start was not rounded down: the reader came to it through the block that holds it
  if (holdsStart && continuation) {
    if (isBlock(e0)) out.push(first);
    return;
  }
  // a block read from its first byte (the module's sqread, a loop bio on a 1 KiB boundary). A read that
  // starts on metadata may still be a rounded-down read of the block after it: a loop bio rounded to 0
  // for the first file reads the 96-byte superblock too (the mount's own superblock read, 1 KiB or one
  // page, then also names the image's first file).
  if (holdsStart && e0.start === r.start && isBlock(e0)) {
    out.push(first);
    return;
  }
  const limit = Math.min(r.end, r.start + START_SLOP);
  let next = -1;
  for (let k = first; k < last && extents[k]!.start < limit; k++) {
    const e = extents[k]!;
    if (e.start > r.start && isBlock(e)) {
      next = k;
      break;
    }
  }
  if (next < 0) {
    if (holdsStart && isBlock(e0)) out.push(first);
    return;
  }
  if (holdsStart && isBlock(e0) && touched[first] === 1) out.push(first);
  out.push(next);
}
