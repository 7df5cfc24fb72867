/**
 * A stream of physical reads in issue order, stored in columns so that a million-read trace
 * costs tens of MB, not hundreds.
 */
export interface Reads {
  count: number;
  /** Byte offset in the image. */
  offset: Float64Array;
  length: Float64Array;
  /** Index into the layout's files of what the read was for, or -1 (metadata, unknown). */
  file: Int32Array;
  /** Position in the boot that issued the read: the profile access, or the trace event, from 0. */
  step: Int32Array;
}

export class ReadsBuilder {
  private offset = new Float64Array(1024);
  private length = new Float64Array(1024);
  private file = new Int32Array(1024);
  private step = new Int32Array(1024);
  private n = 0;

  get count(): number {
    return this.n;
  }

  push(offset: number, length: number, file: number, step: number): void {
    if (this.n === this.offset.length) this.grow();
    this.offset[this.n] = offset;
    this.length[this.n] = length;
    this.file[this.n] = file;
    this.step[this.n] = step;
    this.n++;
  }

  /** Forget the reads pushed so far and keep the storage (a builder reused for stream after stream). */
  clear(): void {
    this.n = 0;
  }

  /** The reads so far as views of the builder's storage, valid until the next push or clear. */
  view(): Reads {
    const n = this.n;
    return { count: n, offset: this.offset.subarray(0, n), length: this.length.subarray(0, n), file: this.file.subarray(0, n), step: this.step.subarray(0, n) };
  }

  build(): Reads {
    return {
      count: this.n,
      offset: this.offset.slice(0, this.n),
      length: this.length.slice(0, this.n),
      file: this.file.slice(0, this.n),
      step: this.step.slice(0, this.n),
    };
  }

  private grow(): void {
    const size = this.offset.length * 2;
    const offset = new Float64Array(size);
    offset.set(this.offset);
    const length = new Float64Array(size);
    length.set(this.length);
    const file = new Int32Array(size);
    file.set(this.file);
    const step = new Int32Array(size);
    step.set(this.step);
    this.offset = offset;
    this.length = length;
    this.file = file;
    this.step = step;
  }
}

/** Convenience for tests and small inputs. */
export function readsFrom(list: readonly { offset: number; length: number; file?: number; step?: number }[]): Reads {
  const b = new ReadsBuilder();
  list.forEach((r, i) => b.push(r.offset, r.length, r.file ?? -1, r.step ?? i));
  return b.build();
}

/** Union per read stream and alignment: every device of one sector size shares it. */
const unionCache = new WeakMap<Reads, Map<number, { starts: Float64Array; ends: Float64Array }>>();

/**
 * Bytes covered by the union of the reads, after widening each read to whole `alignBytes` units.
 * A sweep over the sorted starts and the sorted ends (typed-array sorts, fast for a million reads):
 * a covered segment opens when the count of open reads leaves 0 and closes when it returns to 0;
 * at equal positions starts go first, so reads that touch merge.
 */
export function unionIntervals(reads: Reads, alignBytes: number): { starts: Float64Array; ends: Float64Array } {
  let byAlign = unionCache.get(reads);
  const cached = byAlign?.get(alignBytes);
  if (cached) return cached;
  const a = new Float64Array(reads.count);
  const b = new Float64Array(reads.count);
  let n = 0;
  for (let i = 0; i < reads.count; i++) {
    const len = reads.length[i]!;
    if (len <= 0) continue;
    a[n] = Math.floor(reads.offset[i]! / alignBytes) * alignBytes;
    b[n] = Math.ceil((reads.offset[i]! + len) / alignBytes) * alignBytes;
    n++;
  }
  const starts = a.subarray(0, n).sort();
  const ends = b.subarray(0, n).sort();
  const outStarts: number[] = [];
  const outEnds: number[] = [];
  let open = 0;
  let i = 0;
  let j = 0;
  while (j < n) {
    if (i < n && starts[i]! <= ends[j]!) {
      if (open === 0) outStarts.push(starts[i]!);
      open++;
      i++;
    } else {
      open--;
      if (open === 0) outEnds.push(ends[j]!);
      j++;
    }
  }
  const result = { starts: Float64Array.from(outStarts), ends: Float64Array.from(outEnds) };
  if (!byAlign) unionCache.set(reads, (byAlign = new Map()));
  byAlign.set(alignBytes, result);
  return result;
}
