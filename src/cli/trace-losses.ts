import type { Trace } from '../trace/types.js';
import { note } from './output.js';

/** Notes that say a trace lost something: rows skipped as bad, events missing (seq gaps). */
const LOSS = /row skipped|bad rows|missing/;

/**
 * Every command that reads traces says which rows it left out and what the capture lost (issue 11:
 * a bad row is skipped, never silently): the output is made from the rest.
 */
export function noteTraceLosses(traces: readonly Pick<Trace, 'source' | 'notes'>[]): void {
  for (const trace of traces) for (const n of trace.notes ?? []) if (LOSS.test(n)) note(`${trace.source}: ${n}`);
}
