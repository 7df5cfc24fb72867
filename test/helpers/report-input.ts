import type { TraceEvent } from '../../src/trace/types.js';
import type { ReportInput } from '../../src/cli/report-pipeline.js';
import { blockEventsToReads } from '../../src/sim/physical.js';
import { syntheticLayout, syntheticTree, type SyntheticFile } from './synthetic-layout.js';

export const HOSTILE_NAME = '/usr/lib/<img src=x onerror=alert(1)>.so';

/** Two releases of a synthetic image, a profile that touches a hostile file name, and a block trace of the first. */
export function sampleReportInput(): ReportInput {
  const files: SyntheticFile[] = [...syntheticTree(30, 20), { path: HOSTILE_NAME, size: 400_000 }];
  const v1 = syntheticLayout(files, { blockSize: 131072, ratio: 0.4, source: 'release-1.iso' });
  // the next release writes the files in another order and compresses worse
  const v2 = syntheticLayout([...files].reverse(), { blockSize: 131072, ratio: 0.5, source: 'release-2.iso' });
  const accesses = v1.files.filter((f, i) => i % 17 === 3 || f.path === HOSTILE_NAME).map((f) => ({ path: f.path }));
  accesses.push({ path: '/etc/<script>alert(2)</script>' });
  const events: TraceEvent[] = [];
  for (const a of accesses) {
    const i = v1.files.findIndex((f) => f.path === a.path);
    for (const e of v1.extents) {
      if (e.file === i || (e.files?.includes(i) ?? false)) {
        events.push({ kind: 'block', seq: events.length, device: 'sr0', offset: e.start, length: e.length });
      }
    }
  }
  return {
    title: 'Release <b>1</b> & 2',
    generatedAt: '2026-01-01T00:00:00Z',
    images: [
      { name: 'release-1', layout: v1 },
      { name: 'release-2 <i>', layout: v2 },
    ],
    accesses,
    touchedPaths: ['/usr/lib/d2', ...accesses.map((a) => a.path)],
    physical: [{ name: 'qemu.log', reads: blockEventsToReads(events, v1) }],
    traceNames: ['boot-1.events'],
  };
}
