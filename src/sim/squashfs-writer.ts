import type { Extent } from '../image/layout.js';

/**
 * How mksquashfs lays data down, as far as positions go: extents appended at a cursor, and tails of
 * small files packed into a fragment block that is written when the next tail does not fit (so
 * after whatever data was written meanwhile). Used to predict layouts (candidates, the optimizer).
 */
export class SquashfsWriter {
  readonly extents: Extent[] = [];
  private fragmentNo = 0;
  private pending: number[] = [];
  private pendingRaw = 0;
  private pendingBytes = 0;

  constructor(
    public cursor: number,
    private readonly blockSize: number,
  ) {}

  /** Append an extent at the cursor (its start is set here). */
  place(extent: Omit<Extent, 'start'>): void {
    this.extents.push({ ...extent, start: this.cursor });
    this.cursor += extent.length;
  }

  /** Number a moved fragment block as the next one written. */
  nextFragment(): number {
    return this.fragmentNo++;
  }

  /** Raw bytes already packed into the pending fragment block. */
  get pendingTailBytes(): number {
    return this.pendingRaw;
  }

  /** Add `file`'s tail (`raw` bytes, `compressed` once packed) to the pending fragment block. */
  addTail(file: number, raw: number, compressed: number): void {
    if (this.pendingRaw + raw > this.blockSize) this.flush();
    this.pending.push(file);
    this.pendingRaw += raw;
    this.pendingBytes += compressed;
  }

  /** Bytes of tails of files not tracked one by one, packed into the pending block. */
  addAnonymousTail(compressed: number): void {
    this.pendingBytes += compressed;
  }

  /** Write the pending fragment block, if any. */
  flush(): void {
    if (this.pending.length === 0) return;
    this.place({ length: Math.max(1, Math.round(this.pendingBytes)), kind: 'fragment-block', files: this.pending, fragment: this.fragmentNo++ });
    this.pending = [];
    this.pendingRaw = 0;
    this.pendingBytes = 0;
  }
}
