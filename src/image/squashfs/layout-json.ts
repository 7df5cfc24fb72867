import type { Layout } from '../layout.js';
import { PLAIN_NAME, type EntryTable } from './entry-table.js';
import type { SquashfsFileColumns } from './layout.js';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');
const FILE_LAYER = latin1('","layer":"squashfs","size":');
const FILE_INODE = latin1(',"inode":');
const FILE_SAME = latin1(',"sameDataAs":');
/** Bytes a file row needs besides its directory prefix and name: the literals and three numbers. */
const ROW_EXTRA = 128;
/**
 * Rows per call of FileRows.write: short calls let V8 optimize `write` once, between calls,
 * instead of twice (once in the middle of a long loop, on-stack replacement, then again).
 */
const ROWS_PER_CALL = 512;
/** A name is at most 256 bytes; escaped, at most 6 bytes each. */
const NAME_MAX_JSON = 256 * 6;

/**
 * JSON.stringify of a bare squashfs's Layout as UTF-8, in buffers of about `chunkBytes`, written
 * straight from the entry columns: no LayoutFile object, no tree arrays, and no string per file
 * (a directory's escaped path is encoded once, a plain-ASCII name is copied from the directory
 * table's bytes). At 100k files, strings per file grew the V8 heap by 10 MB and kept the
 * collector busy. `head` holds the Layout's scalar fields, in the Layout's key order.
 */
export function* squashfsLayoutJson(
  head: Pick<Layout, 'source' | 'size' | 'squashfsOffset' | 'squashfsSize' | 'blockSize' | 'compressor'>,
  t: EntryTable,
  files: SquashfsFileColumns,
  extents: readonly Layout['extents'][number][],
  chunkBytes = 1 << 18,
  /** Pieces the consumer has written out and no longer holds: their buffers are filled again. */
  released: Uint8Array[] = [],
): Generator<Uint8Array> {
  const out = new Chunks(chunkBytes, released);
  const headJson = JSON.stringify(head).slice(0, -1);
  out.text(`${headJson}${headJson.length > 1 ? ',' : ''}"files":[`);
  const rows = new FileRows(t, files);
  // One row first: V8 then has seen every path of `write` (its loop's exit too) before it
  // optimizes the loop, and does not throw that code away when the loop first ends.
  let max = 1;
  while (rows.next < files.count) {
    out.room(rows.need());
    out.pos = rows.write(out.buf, out.pos, max);
    max = ROWS_PER_CALL;
    yield* out.full();
  }
  out.text('],"extents":[');
  for (let i = 0; i < extents.length; i++) {
    // numbers, booleans and kind names: ASCII
    out.text(`${i > 0 ? ',' : ''}${JSON.stringify(extents[i])}`);
    yield* out.full();
  }
  out.text('],"tree":{"dirs":[');
  const { dirRows, symlinkRows } = t;
  for (let k = 0; k < dirRows.length; k++) {
    out.text(`${k > 0 ? ',' : ''}${JSON.stringify(t.pathOf(dirRows[k]!))}`);
    yield* out.full();
  }
  out.text('],"links":[');
  for (let k = 0; k < symlinkRows.length; k++) {
    const i = symlinkRows[k]!;
    out.text(`${k > 0 ? ',' : ''}{"path":${JSON.stringify(t.pathOf(i))},"target":${JSON.stringify(t.symlinkTarget(i))}}`);
    yield* out.full();
  }
  out.text(']}}');
  yield* out.full();
  yield out.buf.subarray(0, out.pos);
}

/** Output buffers: a fresh one when the current is full (a stream may still hold the last one). */
class Chunks {
  buf: Buffer;
  pos = 0;
  private done: Buffer[] = [];
  /** The buffers made here: only those are taken back from `released`. */
  private readonly mine = new WeakSet<ArrayBufferLike>();
  constructor(
    private readonly size: number,
    private readonly released: Uint8Array[],
  ) {
    this.buf = this.fresh(size);
  }

  /** At least `n` free bytes in `buf`. */
  room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.pos > 0) this.done.push(this.buf.subarray(0, this.pos));
    this.buf = this.reused(n) ?? this.fresh(Math.max(this.size, n));
    this.pos = 0;
  }

  private fresh(n: number): Buffer {
    const b = Buffer.allocUnsafeSlow(n);
    this.mine.add(b.buffer);
    return b;
  }

  /** A written piece's whole buffer, when it is one of ours and big enough (100k files: 9 MB of buffers become one or two). */
  private reused(n: number): Buffer | undefined {
    for (let piece = this.released.pop(); piece !== undefined; piece = this.released.pop()) {
      const whole = piece.buffer;
      if (this.mine.has(whole) && whole.byteLength >= n) return Buffer.from(whole, 0, whole.byteLength);
    }
    return undefined;
  }

  text(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.room(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  /** Buffers filled since the last call. */
  full(): Buffer[] {
    if (this.done.length === 0) return NONE;
    const d = this.done;
    this.done = [];
    return d;
  }
}
const NONE: Buffer[] = [];

/** The "files" array's rows, from the columns. */
class FileRows {
  next = 0;
  private prefixDir = -2;
  private prefix: Buffer = Buffer.alloc(0);
  constructor(
    private readonly t: EntryTable,
    private readonly files: SquashfsFileColumns,
  ) {}

  /** Bytes the next row needs at most (its directory prefix is encoded here, once per directory). */
  need(): number {
    this.prefixFor(this.t.parent[this.files.row[this.next]!]!);
    return this.prefix.length + NAME_MAX_JSON + ROW_EXTRA;
  }

  /** Up to `max` rows from `next` on into buf[pos..], while the next one surely fits; returns the new position. */
  write(buf: Buffer, pos: number, max: number): number {
    const t = this.t;
    const rows = this.files.row;
    const sharesWith = this.files.sharesWith;
    const stop = Math.min(this.files.count, this.next + max);
    const names = t.dirBytes;
    const parents = t.parent;
    const nameStarts = t.nameStart;
    const flags = t.flags;
    const end = buf.length;
    let i = this.next;
    for (; i < stop; i++) {
      const row = rows[i]!;
      const parent = parents[row]!;
      if (parent !== this.prefixDir) this.prefixFor(parent);
      const prefix = this.prefix;
      if (pos + prefix.length + NAME_MAX_JSON + ROW_EXTRA > end) break;
      if (i > 0) buf[pos++] = 0x2c; // ,
      // literals and the directory prefix by TypedArray#set: a builtin, fast before V8 optimizes this loop
      buf.set(prefix, pos);
      pos += prefix.length;
      if ((flags[row]! & PLAIN_NAME) !== 0) {
        // checked by the directory reader: printable ASCII, no quote or backslash
        const start = nameStarts[row]!;
        const nameEnd = start + t.nameLength(row);
        for (let k = start; k < nameEnd; k++) buf[pos++] = names[k]!;
      } else pos += escapedName(t, row, buf, pos);
      buf.set(FILE_LAYER, pos);
      pos += FILE_LAYER.length;
      pos = writeUint(t.size(row), buf, pos);
      buf.set(FILE_INODE, pos);
      pos += FILE_INODE.length;
      pos = writeUint(t.inode(row), buf, pos);
      const shares = sharesWith[i]!;
      if (shares > 0) {
        buf.set(FILE_SAME, pos);
        pos += FILE_SAME.length;
        pos = writeUint(shares - 1, buf, pos);
      }
      buf[pos++] = 0x7d; // }
    }
    this.next = i;
    return pos;
  }

  /** `{"path":`, the opening quote and the escaped path of directory `dir` with its slash (the root's: "/): one copy a row. */
  private prefixFor(dir: number): void {
    if (dir === this.prefixDir) return;
    this.prefixDir = dir;
    const path = dir <= 0 ? '/' : `${this.t.pathOf(dir)}/`;
    this.prefix = Buffer.from(`{"path":${JSON.stringify(path).slice(0, -1)}`, 'utf8');
  }
}

/** JSON.stringify of a name that needs escaping or UTF-8 decoding, without its quotes; returns the bytes written. */
function escapedName(t: EntryTable, row: number, buf: Buffer, at: number): number {
  return buf.write(JSON.stringify(t.name(row)).slice(1, -1), at, 'utf8');
}

/**
 * A non-negative integer as JSON writes it. Small-integer arithmetic only (a remainder, then an
 * exact division): until V8 optimizes the row loop, `Math.floor(x / 10)` boxed a number per
 * digit (two numbers a row, four to six digits each, 100k rows).
 */
function writeUint(v: number, buf: Buffer, pos: number): number {
  if (!(v >= 0 && v < 2147483648 && Number.isInteger(v))) return pos + buf.write(String(v), pos, 'latin1');
  let digits = 1;
  for (let x = v; x >= 10; x = (x - (x % 10)) / 10) digits++;
  let p = pos + digits;
  let x = v;
  do {
    const r = x % 10;
    buf[--p] = 48 + r;
    x = (x - r) / 10;
  } while (x > 0);
  return pos + digits;
}
