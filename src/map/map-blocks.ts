import { InputError } from '../errors.js';
import type { Layout } from '../image/layout.js';
import { eventDigestOf } from '../trace/event-columns.js';
import { isFileEvent, type Trace } from '../trace/types.js';
import { matchSquashfsReads } from './image-match.js';
import { blockEventsToFileEvents, type MapOptions } from './map-trace.js';

/**
 * A trace ready for src/profile: its block events and inode-only file events turned into file
 * events through `layout` (the result has `blocksMapped`; file events the layout could not name
 * keep an empty path). A trace whose events all name a file is returned as it is.
 *
 * The module's own squashfs block reads are checked first (matchSquashfsReads): mapped through an
 * image they were not recorded on, they would name unrelated files without any error.
 */
export function mapBlockEvents(trace: Trace, layout: Layout, options: MapOptions = {}): Trace {
  const columns = eventDigestOf(trace); // the module log, counted without building its events
  if (columns !== undefined ? columns.blocks + columns.pathless === 0 : !trace.events.some((e) => !isFileEvent(e) || e.path === '')) return trace;
  const match = matchSquashfsReads(trace, layout);
  if (!match.matches) {
    throw new InputError(
      `${trace.source}: only ${match.aligned} of ${match.checked} squashfs block reads start on a block of the ` +
        'image given: the trace was recorded on another image. Give the image it was captured on, ' +
        'or --no-block-events to use only the file events',
    );
  }
  return { ...trace, events: blockEventsToFileEvents(trace, layout, options), blocksMapped: true };
}
