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

/**
 * Decoded, unescaped strings by their bytes: a boot log names a few thousand files a million
 * times, and decoding each occurrence was most of the parse. Memory grows with the distinct
 * values, not the records. Keys are copied, so the scanned Buffer can go.
 */
export class ByteStrings {
  private mask = 1023;
  private hashes = new Int32Array(1024);
  private keys: (Buffer | undefined)[] = new Array<Buffer | undefined>(1024);
  private ids = new Int32Array(1024);
  private lastKey: Buffer | undefined;
  private lastId = -1;
  /** The distinct strings, by id (in order of first appearance). */
  readonly values: string[] = [];

  /** The string bytes[start, end) stands for (UTF-8, backslash escapes undone). */
  get(bytes: Buffer, start: number, end: number): string {
    return this.values[this.id(bytes, start, end)]!;
  }

  /** The id of that string in `values`: the same bytes always get the same id. */
  id(bytes: Buffer, start: number, end: number): number {
    const n = end - start;
    // a column often repeats its previous value (the device, a process's comm): compared from the end
    const last = this.lastKey;
    if (last !== undefined && last.length === n) {
      let k = n - 1;
      while (k >= 0 && last[k] === bytes[start + k]) k--;
      if (k < 0) return this.lastId;
    }
    // FNV-1a over the length and the last 24 bytes: paths share long prefixes and differ at the
    // end, and a hit is checked byte by byte anyway
    let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
    for (let k = Math.max(start, end - 24); k < end; k++) h = Math.imul(h ^ bytes[k]!, 0x01000193);
    let slot = h & this.mask;
    for (;;) {
      const key = this.keys[slot];
      if (key === undefined) break;
      if (this.hashes[slot] === h && key.length === n) {
        let k = 0;
        while (k < n && key[k] === bytes[start + k]) k++;
        if (k === n) {
          this.lastKey = key;
          return (this.lastId = this.ids[slot]!);
        }
      }
      slot = (slot + 1) & this.mask;
    }
    const id = this.values.length;
    this.values.push(unescapeField(bytes.toString('utf8', start, end)));
    this.keys[slot] = Buffer.from(bytes.subarray(start, end));
    this.hashes[slot] = h;
    this.ids[slot] = id;
    this.lastKey = this.keys[slot];
    this.lastId = id;
    if (this.values.length * 2 > this.mask) this.grow();
    return id;
  }

  private grow(): void {
    const { keys, ids, hashes } = this;
    const size = (this.mask + 1) * 2;
    this.mask = size - 1;
    this.hashes = new Int32Array(size);
    this.keys = new Array<Buffer | undefined>(size);
    this.ids = new Int32Array(size);
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i];
      if (key === undefined) continue;
      let slot = hashes[i]! & this.mask;
      while (this.keys[slot] !== undefined) slot = (slot + 1) & this.mask;
      this.keys[slot] = key;
      this.hashes[slot] = hashes[i]!;
      this.ids[slot] = ids[i]!;
    }
  }
}
