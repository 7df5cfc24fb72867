import { createRequire } from 'node:module';
import { crc32 } from 'node:zlib';
import { BCJ_DECODERS } from './bcj.js';
import { DecompressError } from './types.js';

interface NapiLzma {
  lzma2: { decompressSync(input: Uint8Array): Buffer };
  lzma: { decompressSync(input: Uint8Array): Buffer };
}
// @napi-rs/lzma is CommonJS with a prebuilt binding shipped in a platform package; load it lazily
// so images with other compressors never touch it.
let binding: NapiLzma | undefined;
export function napiLzma(): NapiLzma {
  binding ??= createRequire(import.meta.url)('@napi-rs/lzma') as NapiLzma;
  return binding;
}

/**
 * The uncompressed size an xz stream declares in its index (sum of its records), read before
 * decoding so a hostile block cannot expand past the limit: the decoder has no output cap.
 */
export function xzDeclaredSize(input: Uint8Array): number {
  const n = input.length;
  if (n < 12 + 12) throw new DecompressError('xz: stream shorter than header and footer');
  if (input[n - 2] !== 0x59 || input[n - 1] !== 0x5a) throw new DecompressError('xz: bad footer magic');
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const backwardSize = (view.getUint32(n - 8, true) + 1) * 4;
  const indexStart = n - 12 - backwardSize;
  if (indexStart < 12) throw new DecompressError('xz: index size past the start of the stream');
  let p = indexStart;
  const varint = (): number => {
    let value = 0;
    for (let i = 0; i < 9; i++) {
      if (p >= n - 12) throw new DecompressError('xz: truncated index');
      const b = input[p++]!;
      value += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return value;
    }
    throw new DecompressError('xz: index number too long');
  };
  if (input[p++] !== 0) throw new DecompressError('xz: bad index indicator');
  const records = varint();
  if (records > backwardSize) throw new DecompressError('xz: index record count too large');
  let total = 0;
  for (let i = 0; i < records; i++) {
    varint(); // unpadded size
    total += varint();
  }
  return total;
}

const CHECK_SIZES: Readonly<Record<number, number>> = { 0: 0, 1: 4, 4: 8, 10: 32 };
const FILTER_LZMA2 = 0x21;

interface XzBlock {
  /** Raw LZMA2 chunks of the block. */
  lzma2: Uint8Array;
  /** What the chunk headers say the block decodes to. */
  size: number;
  /** The branch-converter filter (BCJ) of the block, when it uses one: xz filter id and start offset. */
  bcj?: { id: number; startOffset: number };
  /** Expected CRC32 of the block's data (check type 1), when present. */
  crc32?: number;
}

/**
 * Walk an xz stream (the container, not the compressed data): stream header, then for each block its
 * header (filters), its LZMA2 chunk headers and its check. Chunk headers are not compressed and
 * each states its unpacked size, which a decoder must honour: summing them bounds the output
 * exactly, whatever the index says.
 */
export function xzBlocks(input: Uint8Array): XzBlock[] {
  const n = input.length;
  const magic = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
  if (n < 12 || magic.some((b, i) => input[i] !== b)) throw new DecompressError('xz: bad stream header');
  const checkType = input[7]!;
  const checkSize = CHECK_SIZES[checkType];
  if (input[6] !== 0 || checkSize === undefined) throw new DecompressError(`xz: unsupported stream flags ${input[6]} ${input[7]}`);
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  const blocks: XzBlock[] = [];
  let p = 12;
  // Every block and every chunk consumes at least one byte: the loops end within n steps.
  for (;;) {
    if (p >= n) throw new DecompressError('xz: truncated before the index');
    if (input[p] === 0) return blocks; // index indicator: no more blocks
    const blockStart = p;
    const headerEnd = p + (input[p]! + 1) * 4;
    if (headerEnd > n) throw new DecompressError('xz: truncated block header');
    const flags = input[p + 1]!;
    if (flags & 0x3c) throw new DecompressError('xz: reserved block flags set');
    let q = p + 2;
    const varint = (): number => {
      let value = 0;
      for (let i = 0; i < 9; i++) {
        if (q >= headerEnd - 4) throw new DecompressError('xz: truncated block header field');
        const b = input[q++]!;
        value += (b & 0x7f) * 2 ** (7 * i);
        if ((b & 0x80) === 0) return value;
      }
      throw new DecompressError('xz: block header number too long');
    };
    if (flags & 0x40) varint(); // compressed size
    const declared = flags & 0x80 ? varint() : undefined;
    const filters: { id: number; props: Uint8Array }[] = [];
    for (let f = 0; f <= (flags & 3); f++) {
      const id = varint();
      const propsSize = varint();
      if (q + propsSize > headerEnd - 4) throw new DecompressError('xz: filter properties run past the block header');
      filters.push({ id, props: input.subarray(q, q + propsSize) });
      q += propsSize;
    }
    const block: XzBlock = { lzma2: input, size: 0 };
    const last = filters[filters.length - 1]!;
    if (last.id !== FILTER_LZMA2) throw new DecompressError(`xz: last filter is 0x${last.id.toString(16)}, not LZMA2`);
    for (const f of filters.slice(0, -1)) {
      if (BCJ_DECODERS[f.id] === undefined || block.bcj !== undefined) {
        throw new DecompressError(`xz: filter 0x${f.id.toString(16)} is not supported (only one BCJ filter: x86, PowerPC, ARM, ARM-Thumb, SPARC)`);
      }
      if (f.props.length !== 0 && f.props.length !== 4) throw new DecompressError('xz: bad BCJ filter properties');
      block.bcj = { id: f.id, startOffset: f.props.length === 4 ? view.getUint32(f.props.byteOffset - input.byteOffset, true) : 0 };
    }
    p = headerEnd;
    const dataStart = p;
    for (;;) {
      if (p >= n) throw new DecompressError('xz: truncated LZMA2 data');
      const control = input[p]!;
      if (control === 0) {
        p++;
        break;
      }
      if (control === 1 || control === 2) {
        if (p + 3 > n) throw new DecompressError('xz: truncated LZMA2 chunk header');
        const size = ((input[p + 1]! << 8) | input[p + 2]!) + 1;
        block.size += size;
        p += 3 + size;
      } else if (control >= 0x80) {
        if (p + 5 > n) throw new DecompressError('xz: truncated LZMA2 chunk header');
        block.size += ((control & 0x1f) << 16) + ((input[p + 1]! << 8) | input[p + 2]!) + 1;
        const packed = ((input[p + 3]! << 8) | input[p + 4]!) + 1;
        p += (control >= 0xc0 ? 6 : 5) + packed;
      } else {
        throw new DecompressError(`xz: invalid LZMA2 control byte 0x${control.toString(16)}`);
      }
    }
    if (p > n) throw new DecompressError('xz: LZMA2 chunk runs past the input');
    block.lzma2 = input.subarray(dataStart, p);
    if (declared !== undefined && declared !== block.size) throw new DecompressError(`xz: block header says ${declared} bytes, chunks hold ${block.size}`);
    p += (4 - ((p - blockStart) % 4)) % 4; // block padding
    if (p + checkSize > n) throw new DecompressError('xz: truncated block check');
    if (checkType === 1) block.crc32 = view.getUint32(p, true);
    p += checkSize;
    blocks.push(block);
  }
}

/**
 * xz as squashfs-tools writes it (one block, CRC32 check, optionally a BCJ filter chosen per block
 * with -Xbcj x86|powerpc|arm|armthumb|sparc; ia64 is not supported). The LZMA2 data is decoded raw by @napi-rs/lzma, the BCJ filter and the
 * check are applied here: the native decoder knows no BCJ.
 */
export function decompressXz(input: Uint8Array, maxOutput: number): Buffer {
  const declared = xzDeclaredSize(input);
  const blocks = xzBlocks(input);
  const total = blocks.reduce((sum, b) => sum + b.size, 0);
  if (total !== declared) throw new DecompressError(`xz: LZMA2 chunks hold ${total} bytes, index says ${declared}`);
  if (total > maxOutput) throw new DecompressError(`xz: declared size ${total} exceeds ${maxOutput} bytes`);
  const parts: Buffer[] = [];
  for (const block of blocks) {
    let out: Buffer;
    try {
      out = napiLzma().lzma2.decompressSync(block.lzma2);
    } catch (err) {
      throw new DecompressError(`xz: ${(err as Error).message}`, { cause: err });
    }
    if (out.length !== block.size) throw new DecompressError(`xz: decoded ${out.length} bytes, chunk headers say ${block.size}`);
    if (block.bcj) BCJ_DECODERS[block.bcj.id]!(out, block.bcj.startOffset);
    if (block.crc32 !== undefined && crc32(out) !== block.crc32) throw new DecompressError('xz: CRC32 mismatch');
    parts.push(out);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}
