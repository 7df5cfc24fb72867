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

/** Bytes covered by the union of the reads, after widening each read to whole `alignBytes` units. */
export function unionIntervals(reads: Reads, alignBytes: number): { starts: Float64Array; ends: Float64Array } {
  const idx = new Uint32Array(reads.count);
  for (let i = 0; i < reads.count; i++) idx[i] = i;
  const off = reads.offset;
  idx.sort((a, b) => off[a]! - off[b]!);
  const starts: number[] = [];
  const ends: number[] = [];
  let curStart = -1;
  let curEnd = -1;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k]!;
    const len = reads.length[i]!;
    if (len <= 0) continue;
    const a = Math.floor(off[i]! / alignBytes) * alignBytes;
    const b = Math.ceil((off[i]! + len) / alignBytes) * alignBytes;
    if (curStart < 0) {
      curStart = a;
      curEnd = b;
    } else if (a <= curEnd) {
      if (b > curEnd) curEnd = b;
    } else {
      starts.push(curStart);
      ends.push(curEnd);
      curStart = a;
      curEnd = b;
    }
  }
  if (curStart >= 0) {
    starts.push(curStart);
    ends.push(curEnd);
  }
  return { starts: Float64Array.from(starts), ends: Float64Array.from(ends) };
}
