import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { FormatError, InputError, describeSystemError } from '../errors.js';

/**
 * Random access to the bytes of an image. Reads are synchronous: the parsers walk
 * metadata with many small dependent reads, and a sync pread is the fastest way to do that.
 */
export interface ByteSource {
  /** Name used in error messages (the file path, plus a nesting hint for inner images). */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes at `offset`; throws FormatError when the range is past the end. */
  read(offset: number, length: number): Buffer;
  /**
   * read() into `scratch` (at least `length` bytes), for a caller that reads window after window
   * and is done with each before the next: the bytes, in scratch or in the source's own memory.
   */
  readInto?(offset: number, length: number, scratch: Buffer): Buffer;
  close(): void;
}

export class FileSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  private fd: number;

  constructor(path: string) {
    this.name = path;
    try {
      this.fd = openSync(path, 'r');
      const st = fstatSync(this.fd);
      if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      this.size = st.size;
    } catch (err) {
      throw new InputError(describeSystemError(path, err), { cause: err });
    }
  }

  read(offset: number, length: number): Buffer {
    return this.readInto(offset, length, Buffer.allocUnsafe(length));
  }

  readInto(offset: number, length: number, scratch: Buffer): Buffer {
    checkRange(this, offset, length);
    const buf = scratch.length === length ? scratch : scratch.subarray(0, length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, buf, done, length - done, offset + done);
      if (n === 0) throw new FormatError(this.name, offset + done, 'file shrank while reading');
      done += n;
    }
    return buf;
  }

  close(): void {
    closeSync(this.fd);
  }
}

export class BufferSource implements ByteSource {
  readonly size: number;
  constructor(readonly name: string, private readonly bytes: Buffer) {
    this.size = bytes.length;
  }
  read(offset: number, length: number): Buffer {
    checkRange(this, offset, length);
    return this.bytes.subarray(offset, offset + length);
  }
  readInto(offset: number, length: number): Buffer {
    return this.read(offset, length);
  }
  close(): void {}
}

/** A window [base, base + size) of another source: the squashfs file inside an ISO. */
export class SliceSource implements ByteSource {
  readonly name: string;
  constructor(
    private readonly parent: ByteSource,
    readonly base: number,
    readonly size: number,
    innerName: string,
  ) {
    this.name = `${parent.name}:${innerName}`;
    if (base < 0 || base + size > parent.size) {
      throw new FormatError(parent.name, base, `${innerName} extends past the end of the image`);
    }
  }
  read(offset: number, length: number): Buffer {
    checkRange(this, offset, length);
    return this.parent.read(this.base + offset, length);
  }
  readInto(offset: number, length: number, scratch: Buffer): Buffer {
    checkRange(this, offset, length);
    return this.parent.readInto ? this.parent.readInto(this.base + offset, length, scratch) : this.parent.read(this.base + offset, length);
  }
  close(): void {}
}

function checkRange(src: ByteSource, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new FormatError(src.name, offset, `invalid read of ${length} bytes`);
  }
  if (offset + length > src.size) {
    throw new FormatError(src.name, offset, `read of ${length} bytes runs past the end (size ${src.size})`);
  }
}
