import { findExtentIndex, type Layout } from '../image/layout.js';
import type { Trace } from '../trace/types.js';

/** Below this many data-block reads the check says nothing. */
const MIN_READS = 8;
/** Share of the module's data-block reads that must start exactly on a block of the image. */
const MIN_ALIGNED = 0.8;

export interface ImageMatch {
  checked: number;
  aligned: number;
  /** False when the trace's squashfs block reads do not fit this image's blocks. */
  matches: boolean;
}

/**
 * The module records squashfs's own block reads (offset and on-disk length inside the squashfs). On the
 * image they were recorded on, each data read starts exactly where a data or fragment block starts.
 * Mapped through another image (a rebuilt, re-sorted one) they would name unrelated files without any
 * error, so callers check this first.
 */
export function matchSquashfsReads(trace: Trace, layout: Layout): ImageMatch {
  const base = layout.squashfsOffset ?? 0;
  let checked = 0;
  let aligned = 0;
  for (const event of trace.events) {
    if (event.kind !== 'block' || event.squashfsOffset !== true || event.length === 0) continue;
    const at = base + event.offset;
    const index = findExtentIndex(layout.extents, at);
    const extent = index < 0 ? undefined : layout.extents[index];
    const isData = extent !== undefined && (extent.kind === 'data-block' || extent.kind === 'fragment-block');
    // table reads (superblock, lookup indexes, metadata) and data a manifest elided say nothing
    if (extent !== undefined && !isData) continue;
    checked++;
    if (isData && extent.start === at) aligned++;
  }
  return { checked, aligned, matches: checked < MIN_READS || aligned >= MIN_ALIGNED * checked };
}
