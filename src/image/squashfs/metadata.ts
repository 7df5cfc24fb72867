import { FormatError, LimitError } from '../../errors.js';
import type { ByteSource } from '../source.js';
import { DecompressError, type Decompressor } from '../decompress/types.js';
import type { ZlibInflater } from '../decompress/zlib-into.js';

/** A metadata block decompresses to at most this many bytes (SQUASHFS_METADATA_SIZE). */
export const METADATA_SIZE = 8192;
const UNCOMPRESSED_BIT = 0x8000;
/** Total metadata we agree to decompress for one image: bounds memory on hostile input. */
export const METADATA_BUDGET = 1 << 30;
/** Tables are read from the image this many bytes at a time (a bigger window only raises the peak memory). */
const READ_WINDOW = 1 << 17;
/** The first guess of a table's size is 8 times its size on disk, up to this many bytes on disk. */
const GUESS_DISK = 1 << 20;

/** Decompression shared by every table of one image, with the image's running metadata budget. */
export class BlockReader {
  private metadataSpent = 0;
  constructor(
    readonly src: ByteSource,
    readonly decompress: Decompressor,
    /** End of the squashfs data (bytes_used): nothing is read past it. */
    readonly end: number,
    /** gzip images: inflates metadata blocks in place, through one zlib handle. */
    private readonly zlib?: ZlibInflater,
  ) {}

  /** inflate() into out[outPos, outPos + maxOutput), without a buffer per block; returns the length. */
  inflateInto(raw: Buffer, compressed: boolean, out: Buffer, outPos: number, maxOutput: number, offset: number, what: string): number {
    if (compressed && this.zlib) {
      try {
        return this.zlib.inflateInto(raw, out, outPos, maxOutput);
      } catch (err) {
        if (err instanceof DecompressError) throw new FormatError(this.src.name, offset, `${what}: ${err.message}`, { cause: err });
        throw err;
      }
    }
    const data = this.inflate(raw, compressed, maxOutput, offset, what);
    data.copy(out, outPos);
    return data.length;
  }

  /** Decompress (or copy) one block; `offset` is its position on disk, for errors. */
  inflate(raw: Buffer, compressed: boolean, maxOutput: number, offset: number, what: string): Buffer {
    if (!compressed) {
      if (raw.length > maxOutput) throw new FormatError(this.src.name, offset, `${what}: ${raw.length} bytes stored, limit ${maxOutput}`);
      return raw;
    }
    try {
      return this.decompress(raw, maxOutput);
    } catch (err) {
      if (err instanceof DecompressError) throw new FormatError(this.src.name, offset, `${what}: ${err.message}`, { cause: err });
      throw err;
    }
  }

  chargeMetadata(bytes: number, offset: number): void {
    this.metadataSpent += bytes;
    if (this.metadataSpent > METADATA_BUDGET) {
      throw new LimitError(this.src.name, offset, `more than ${METADATA_BUDGET} bytes of metadata: refusing to decompress more`);
    }
  }

  /**
   * One metadata block at absolute `pos`, whose raw bytes are `chunk[at..]` (chunk holds the disk
   * range starting at `chunkPos`). Returns the data and the block's size on disk (header included).
   */
  metadataBlockAt(chunk: Buffer, chunkPos: number, pos: number, what: string): { data: Buffer; diskLength: number } {
    const { raw, compressed } = this.blockRaw(chunk, chunkPos, pos, what);
    let data: Buffer;
    if (compressed && this.zlib) {
      // the lookup tables (an export table: 8 bytes per inode) through the reused zlib handle too
      const into = Buffer.allocUnsafe(METADATA_SIZE);
      data = into.subarray(0, this.inflateInto(raw, true, into, 0, METADATA_SIZE, pos, what));
    } else data = this.inflate(raw, compressed, METADATA_SIZE, pos, what);
    this.chargeMetadata(data.length, pos);
    return { data, diskLength: 2 + raw.length };
  }

  /**
   * metadataBlockAt into out[outPos, outPos + METADATA_SIZE) (the caller makes room); returns the
   * data length. The block's size on disk, header included, is then in `lastDiskLength`.
   */
  metadataBlockInto(chunk: Buffer, chunkPos: number, pos: number, what: string, out: Buffer, outPos: number): number {
    const { raw, compressed } = this.blockRaw(chunk, chunkPos, pos, what);
    const length = this.inflateInto(raw, compressed, out, outPos, METADATA_SIZE, pos, what);
    this.chargeMetadata(length, pos);
    this.lastDiskLength = 2 + raw.length;
    return length;
  }

  lastDiskLength = 0;

  /** The checked header of the block at `pos`, and its raw bytes. */
  private blockRaw(chunk: Buffer, chunkPos: number, pos: number, what: string): { raw: Buffer; compressed: boolean } {
    const at = pos - chunkPos;
    if (at < 0 || at + 2 > chunk.length) throw new FormatError(this.src.name, pos, `${what}: metadata block header runs past the table`);
    const header = chunk.readUInt16LE(at);
    const size = header & ~UNCOMPRESSED_BIT;
    if (size === 0 || size > METADATA_SIZE) throw new FormatError(this.src.name, pos, `${what}: metadata block size ${size} is not in 1..${METADATA_SIZE}`);
    if (at + 2 + size > chunk.length) throw new FormatError(this.src.name, pos, `${what}: metadata block of ${size} bytes runs past the table`);
    return { raw: chunk.subarray(at + 2, at + 2 + size), compressed: (header & UNCOMPRESSED_BIT) === 0 };
  }

  /** A single metadata block read straight from the image (lookup tables, compressor options). */
  readMetadataBlock(pos: number, what: string): { data: Buffer; diskLength: number } {
    if (pos < 0 || pos + 2 > this.end) throw new FormatError(this.src.name, pos, `${what}: metadata block outside the image`);
    const header = this.src.read(pos, 2).readUInt16LE(0);
    const size = header & ~UNCOMPRESSED_BIT;
    const len = Math.min(2 + size, this.end - pos);
    return this.metadataBlockAt(this.src.read(pos, len), pos, pos, what);
  }
}

const roundUp = (n: number): number => Math.ceil(n / METADATA_SIZE) * METADATA_SIZE;

/**
 * A metadata table (inode or directory table) decompressed once into one buffer.
 * References are (disk position of the block relative to the table start, offset in the block).
 */
export class MetadataTable {
  /** Disk position of each block relative to `start`, ascending. */
  readonly blockPos: number[] = [];
  /** Offset of each block's data in `bytes`. */
  readonly blockOffset: number[] = [];
  readonly bytes: Buffer;
  /** The same bytes, for reads in the walk: DataView reads are builtins, fast before V8 optimizes the caller. */
  readonly view: DataView;
  /** Absolute end on disk of the last block. */
  readonly end: number;

  constructor(reader: BlockReader, readonly start: number, limit: number, readonly what: string) {
    const name = reader.src.name;
    if (limit <= start) throw new FormatError(name, start, `${what} is empty or its end ${limit} is before its start`);
    // Blocks are inflated straight into one buffer, grown when full; metadata compresses about
    // 3 to 5 times, and pages never written are never resident.
    let out = Buffer.allocUnsafe(Math.min(METADATA_BUDGET, roundUp(Math.min(limit - start, GUESS_DISK) * 8)));
    let pos = start;
    let total = 0;
    // Read the table a window at a time: a hostile table end may be far away, and only the
    // blocks actually there should cost memory.
    let window: Buffer = Buffer.alloc(0);
    let windowPos = start;
    // one buffer for every window: each block is inflated out of it before the next read
    const src = reader.src;
    const scratch = src.readInto ? Buffer.allocUnsafeSlow(Math.min(READ_WINDOW, limit - start)) : undefined;
    // Each block is charged at least a full block to the metadata budget, so a table of tiny
    // blocks ends within METADATA_BUDGET / METADATA_SIZE blocks.
    while (pos < limit) {
      if (pos + 2 + METADATA_SIZE > windowPos + window.length && windowPos + window.length < limit) {
        windowPos = pos;
        const length = Math.min(READ_WINDOW, limit - pos);
        window = scratch !== undefined && src.readInto ? src.readInto(pos, length, scratch) : src.read(pos, length);
      }
      if (total + METADATA_SIZE > out.length) {
        const grown = Buffer.allocUnsafe(Math.max(out.length * 2, total + METADATA_SIZE));
        out.copy(grown, 0, 0, total);
        out = grown;
      }
      const length = reader.metadataBlockInto(window, windowPos, pos, what, out, total);
      reader.chargeMetadata(METADATA_SIZE - length, pos);
      this.blockPos.push(pos - start);
      this.blockOffset.push(total);
      total += length;
      pos += reader.lastDiskLength;
    }
    this.end = pos;
    this.bytes = out.subarray(0, total);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  /**
   * Offset in `bytes` of a reference (block, offset). `refPos` names where the reference was
   * read (an absolute image offset) for the error message.
   */
  resolve(block: number, offset: number, file: string, refPos: number, what: string): number {
    const at = this.find(block, offset);
    if (at >= 0) return at;
    if (at === -1) throw new FormatError(file, refPos, `${what}: no ${this.what} block starts at relative position ${block}`);
    throw new FormatError(file, refPos, `${what}: offset ${offset} is past the end of ${this.what} block ${block}`);
  }

  /**
   * Offset in `bytes` of a reference, or -1 when no block starts at `block`, -2 when `offset` is
   * past its end: the walk's hot path, which builds its error message only when it fails.
   */
  find(block: number, offset: number): number {
    const blocks = this.blockPos;
    let lo = 0;
    let hi = blocks.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = blocks[mid]!;
      if (v < block) lo = mid + 1;
      else if (v > block) hi = mid - 1;
      else {
        const base = this.blockOffset[mid]!;
        const blockEnd = mid + 1 < blocks.length ? this.blockOffset[mid + 1]! : this.bytes.length;
        return offset >= blockEnd - base ? -2 : base + offset;
      }
    }
    return -1;
  }

  /** Length of the block whose data starts at `base` in `bytes` (a `find(block, 0)` result). */
  blockLengthAt(base: number): number {
    const offs = this.blockOffset;
    const lo = this.blockIndexOf(base);
    return (lo + 1 < offs.length ? offs[lo + 1]! : this.bytes.length) - base;
  }

  /** The absolute disk position of the block holding byte `at` of `bytes` (for error messages). */
  diskPositionOf(at: number): number {
    return this.start + (this.blockPos[this.blockIndexOf(at)] ?? 0);
  }

  /** Index of the block holding byte `at` of `bytes`: the last block whose data starts at or before it. */
  private blockIndexOf(at: number): number {
    const offs = this.blockOffset;
    let lo = 0;
    let hi = offs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (offs[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
