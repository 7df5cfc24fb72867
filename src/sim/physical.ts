import { findExtentIndex, type Layout } from '../image/layout.js';
import type { BlockEvent, TraceEvent } from '../trace/types.js';
import { ReadsBuilder, type Reads } from './reads.js';
import type { FileAccess } from './replay.js';

export interface PhysicalReads {
  reads: Reads;
  /**
   * True when the trace's reads are squashfs's own (the module's sqread events): they still have to go
   * through the guest's page cache. False for reads the drive saw (qemu, blktrace on sr0).
   */
  aboveCache: boolean;
}

/** Which offsets a device's reads are in: the image's, the squashfs's, or not ours to count. */
export type CoordinatesOf = (event: BlockEvent) => 'image' | 'squashfs' | 'skip';

const defaultCoordinates: CoordinatesOf = (e) => (e.squashfsOffset ? 'squashfs' : 'image');

/**
 * The block events of a trace as reads in image offsets, in trace order, each tagged with the
 * layout file it falls in (data block, ISO file, or the first sharer of a fragment block).
 * src/map's chooseDeviceCoordinates gives `coordinatesOf` for traces that name several devices.
 */
export function blockEventsToReads(
  events: readonly TraceEvent[],
  layout?: Layout,
  coordinatesOf: CoordinatesOf = defaultCoordinates,
): PhysicalReads {
  const out = new ReadsBuilder();
  const base = layout?.squashfsOffset ?? 0;
  let above = 0;
  let below = 0;
  let step = 0;
  for (const e of events) {
    if (e.kind !== 'block') continue;
    // parsers bound their fields; a read that is still not a plain byte range is not costed
    if (!(Number.isSafeInteger(e.offset) && e.offset >= 0 && Number.isSafeInteger(e.length) && e.length >= 0)) continue;
    const where = coordinatesOf(e);
    if (where === 'skip') continue;
    const offset = where === 'squashfs' ? base + e.offset : e.offset;
    if (where === 'squashfs') above++;
    else below++;
    out.push(offset, e.length, layout ? fileAt(layout, offset) : -1, step++);
  }
  return { reads: out.build(), aboveCache: above > 0 && below === 0 };
}

export function fileAt(layout: Layout, offset: number): number {
  const i = findExtentIndex(layout.extents, offset);
  if (i < 0) return -1;
  const e = layout.extents[i]!;
  if (e.file !== undefined) return e.file;
  if (e.files !== undefined && e.files.length > 0) return e.files[0]!;
  return -1;
}

/** Files in the order the reads first touched them: a file-level profile from a physical trace. */
export function accessesFromReads(reads: Reads, layout: Layout): FileAccess[] {
  const seen = new Set<number>();
  const out: FileAccess[] = [];
  for (let i = 0; i < reads.count; i++) {
    const f = reads.file[i]!;
    if (f < 0 || seen.has(f)) continue;
    seen.add(f);
    out.push({ path: layout.files[f]!.path });
  }
  return out;
}
