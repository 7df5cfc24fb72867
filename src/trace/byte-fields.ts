import { unescapeField } from './tsv-escape.js';

/**
 * Reading text trace fields straight from the bytes of a Buffer, for the parsers' hot paths:
 * no string per field unless one is kept.
 */

/**
 * bytes[start, end) as a non-negative decimal that fits a double exactly, or undefined: the same
 * values text-lines.ts parseCount accepts (1 to 16 digits, a safe integer).
 */
export function countAt(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (end <= start || end - start > 16) return undefined;
  let n = 0;
  for (let k = start; k < end; k++) {
    const d = bytes[k]! - 0x30;
    if (d < 0 || d > 9) return undefined;
    // exact below 2^53; above it the double only rounds up, and the check below rejects it
    n = n * 10 + d;
  }
  return n <= Number.MAX_SAFE_INTEGER ? n : undefined;
}

/** Index of the first byte at or after `start` that is not an ASCII digit (or `end`). */
export function digitsEnd(bytes: Uint8Array, start: number, end: number): number {
  let k = start;
  while (k < end) {
    const c = bytes[k]!;
    if (c < 0x30 || c > 0x39) break;
    k++;
  }
  return k;
}

/** Does bytes[at...] start with the ASCII text `word`? */
export function bytesStartWith(bytes: Uint8Array, at: number, end: number, word: string): boolean {
  if (end - at < word.length) return false;
  for (let k = 0; k < word.length; k++) if (bytes[at + k] !== word.charCodeAt(k)) return false;
  return true;
}

/** The ByteStrings hash: FNV-1a's steps over the bytes 4 at a time (little-endian), then over the bytes left, then folded. */
export const HASH_SEED = 0x811c9dc5;
export const HASH_PRIME = 0x01000193;
/** The multiplies move bits up only: the high ones are folded down for the table's low-bit slots. */
export function foldHash(h: number): number {
  return h ^ (h >>> 15);
}

/** The hash of bytes[start, end) (`view` over the same bytes). */
function hashBytes(bytes: Uint8Array, view: DataView, start: number, end: number): number {
  let h = HASH_SEED;
  let k = start;
  for (; k + 4 <= end; k += 4) h = Math.imul(h ^ view.getInt32(k, true), HASH_PRIME);
  for (; k < end; k++) h = Math.imul(h ^ bytes[k]!, HASH_PRIME);
  return foldHash(h);
}

/**
 * Decoded, unescaped strings by their bytes: a boot log names a few thousand files a million
 * times, and decoding each occurrence was most of the parse. Memory grows with the distinct
 * values, not the records. Keys are copied into one byte arena (no object per key, and a probe
 * compares two typed arrays), so the scanned Buffer can go.
 */
export class ByteStrings {
  private mask = 1023;
  /**
   * Per slot, 4 numbers side by side (one cache line holds a probe): the key's hash, its start in
   * `arena` (-1: an empty slot), its length, the value's id.
   */
  private slots = new Int32Array(4 * 1024).fill(-1);
  private arena = new Uint8Array(16384);
  private arenaView = new DataView(this.arena.buffer);
  private used = 0;
  /** A DataView over the Buffer last looked in (a scanner's chunk): words are read 4 bytes at a time. */
  private bytes: Uint8Array | undefined;
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));
  private lastStart = -1;
  private lastLength = -1;
  private lastId = -1;
  /** The distinct strings, by id (in order of first appearance). */
  readonly values: string[] = [];

  /** The string bytes[start, end) stands for (UTF-8, backslash escapes undone). */
  get(bytes: Buffer, start: number, end: number): string {
    return this.values[this.id(bytes, start, end)]!;
  }

  /** The id of that string in `values`: the same bytes always get the same id. */
  id(bytes: Buffer, start: number, end: number): number {
    if (this.isLast(bytes, start, end)) return this.lastId;
    return this.find(bytes, start, end, hashBytes(bytes, this.viewOf(bytes), start, end));
  }

  /** id(), given the bytes' hash (a scanner summed it as hashBytes does, on its way through them). */
  idOfHashed(bytes: Buffer, start: number, end: number, hash: number): number {
    if (this.isLast(bytes, start, end)) return this.lastId;
    this.viewOf(bytes);
    return this.find(bytes, start, end, hash);
  }

  private viewOf(bytes: Uint8Array): DataView {
    if (bytes !== this.bytes) {
      this.bytes = bytes;
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    return this.view;
  }

  /** A column often repeats its previous value (the device, a process's comm): compared from the end. */
  private isLast(bytes: Uint8Array, start: number, end: number): boolean {
    const n = end - start;
    if (this.lastLength !== n) return false;
    const arena = this.arena;
    const at = this.lastStart - start;
    let k = end - 1;
    while (k >= start && arena[at + k] === bytes[k]) k--;
    return k < start;
  }

  private find(bytes: Buffer, start: number, end: number, hash: number): number {
    const n = end - start;
    const { arena, slots } = this;
    let slot = (hash & this.mask) << 2;
    for (;;) {
      const at = slots[slot + 1]!;
      if (at === -1) break;
      if (slots[slot] === hash && slots[slot + 2] === n) {
        const shift = at - start;
        const { arenaView, view } = this;
        let k = start;
        while (k + 4 <= end && arenaView.getInt32(shift + k, true) === view.getInt32(k, true)) k += 4;
        while (k < end && arena[shift + k] === bytes[k]) k++;
        if (k === end) {
          this.lastStart = at;
          this.lastLength = n;
          return (this.lastId = slots[slot + 3]!);
        }
      }
      slot = (slot + 4) & ((this.mask << 2) | 3);
    }
    const id = this.values.length;
    this.values.push(unescapeField(bytes.toString('utf8', start, end)));
    if (this.used + n > this.arena.length) {
      const bigger = new Uint8Array(Math.max(this.arena.length * 2, this.used + n));
      bigger.set(this.arena.subarray(0, this.used));
      this.arena = bigger;
      this.arenaView = new DataView(bigger.buffer);
    }
    this.arena.set(bytes.subarray(start, end), this.used);
    slots[slot] = hash;
    slots[slot + 1] = this.used;
    slots[slot + 2] = n;
    slots[slot + 3] = id;
    this.lastStart = this.used;
    this.lastLength = n;
    this.lastId = id;
    this.used += n;
    if (this.values.length * 2 > this.mask) this.grow();
    return id;
  }

  private grow(): void {
    const old = this.slots;
    const size = (this.mask + 1) * 2;
    this.mask = size - 1;
    const slots = (this.slots = new Int32Array(4 * size).fill(-1));
    for (let i = 0; i < old.length; i += 4) {
      if (old[i + 1] === -1) continue;
      let slot = (old[i]! & this.mask) << 2;
      while (slots[slot + 1] !== -1) slot = (slot + 4) & ((this.mask << 2) | 3);
      slots.set(old.subarray(i, i + 4), slot);
    }
  }
}
