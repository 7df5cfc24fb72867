/**
 * A fixed-capacity hash map from non-negative integer keys (< 2^53) to non-negative int32 values,
 * in two typed arrays (open addressing, linear probing): the Layout's duplicate detection puts a
 * key per file, and a Map of 100k entries cost more than the rest of the layout.
 */
export class IntMap {
  private readonly keys: Float64Array;
  private readonly values: Int32Array;
  private readonly mask: number;

  /** Room for at least `count` keys (the table stays at most half full). */
  constructor(count: number) {
    let size = 16;
    while (size < count * 2) size *= 2;
    this.keys = new Float64Array(size);
    this.values = new Int32Array(size).fill(-1);
    this.mask = size - 1;
  }

  private slot(key: number): number {
    const mixed = Math.imul((key >>> 0) ^ Math.floor(key / 4294967296), 0x9e3779b1);
    let i = (mixed ^ (mixed >>> 15)) & this.mask;
    while (this.values[i]! >= 0 && this.keys[i] !== key) i = (i + 1) & this.mask;
    return i;
  }

  get(key: number): number | undefined {
    const v = this.values[this.slot(key)]!;
    return v >= 0 ? v : undefined;
  }

  /** Sets key to value; the caller adds at most `count` distinct keys. */
  set(key: number, value: number): void {
    const i = this.slot(key);
    this.keys[i] = key;
    this.values[i] = value;
  }
}
