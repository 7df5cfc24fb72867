/*
 * xz's branch/call/jump filters (mksquashfs -Xbcj). Machine code compresses better once relative
 * call and jump targets are made absolute, and a live system's boot reads mostly machine code
 * (libraries and programs). mksquashfs compresses every block with each filter given and without
 * one, and keeps the smallest: a block never grows, so the option needs no costing; the only price
 * is build time. Which filter fits is read from the ELF headers of the profiled files.
 */

/** The filters mksquashfs 4.5's xz accepts for -Xbcj, by the ELF e_machine values they suit. */
const FILTER_BY_MACHINE: ReadonlyMap<number, string> = new Map([
  [3, 'x86'], // EM_386
  [62, 'x86'], // EM_X86_64
  [40, 'arm'], // EM_ARM
  [20, 'powerpc'], // EM_PPC
  [2, 'sparc'], // EM_SPARC
  [43, 'sparc'], // EM_SPARCV9
  [50, 'ia64'], // EM_IA_64
]);

/** The bytes an ELF header needs for e_machine (offset 18, 2 bytes). */
export const ELF_HEADER_BYTES = 20;

/** The -Xbcj filter for a file starting with `header`, if it is an ELF file of a filtered machine. */
export function bcjFilterOf(header: Buffer): string | undefined {
  if (header.length < ELF_HEADER_BYTES || header.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const data = header[5]; // EI_DATA: 1 little-endian, 2 big-endian
  const machine = data === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
  return FILTER_BY_MACHINE.get(machine);
}

export interface CodeShare {
  /** The filter whose machine code is most of the profiled bytes. */
  filter: string;
  /** Profiled bytes in ELF files of that machine. */
  codeBytes: number;
  profiledBytes: number;
}

/** Below this share of the profiled bytes, machine code is not worth the longer build. */
export const MIN_CODE_SHARE = 0.1;

/**
 * What share of the profiled files' bytes is machine code, and for which filter. `header(i)`
 * gives the first ELF_HEADER_BYTES of file i (undefined when unreadable or shorter).
 */
export function codeShare(sizes: readonly number[], header: (i: number) => Buffer | undefined): CodeShare | undefined {
  const byFilter = new Map<string, number>();
  let profiledBytes = 0;
  sizes.forEach((size, i) => {
    profiledBytes += size;
    if (size < ELF_HEADER_BYTES) return;
    const h = header(i);
    const filter = h === undefined ? undefined : bcjFilterOf(h);
    if (filter !== undefined) byFilter.set(filter, (byFilter.get(filter) ?? 0) + size);
  });
  let best: CodeShare | undefined;
  for (const [filter, codeBytes] of byFilter) {
    if (best === undefined || codeBytes > best.codeBytes) best = { filter, codeBytes, profiledBytes };
  }
  return best;
}

/**
 * The extra compressor options for an image built with `compressor`: -Xbcj for xz when machine
 * code is at least MIN_CODE_SHARE of what the boot reads. Undefined when there is nothing to add.
 * `measure` (reading every profiled file's header) runs only for a compressor that has filters.
 */
export function compressorOptions(compressor: string | undefined, measure: () => CodeShare | undefined): { options: string[]; reason: string } | undefined {
  if (compressor !== 'xz') return undefined;
  const share = measure();
  if (share === undefined || share.profiledBytes === 0) return undefined;
  const fraction = share.codeBytes / share.profiledBytes;
  if (fraction < MIN_CODE_SHARE) return undefined;
  return {
    options: ['-Xbcj', share.filter],
    reason:
      `${(fraction * 100).toFixed(0)}% of the profiled bytes are ${share.filter} machine code: xz's -Xbcj ${share.filter} filter ` +
      '(mksquashfs keeps, block by block, the smaller of the filtered and unfiltered output: no block grows; not costed above)',
  };
}
