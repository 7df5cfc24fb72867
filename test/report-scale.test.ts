import t from 'tap';
import { buildReportWithModel } from '../src/cli/report-pipeline.js';
import { mulberry32 } from '../src/sim/prng.js';
import { accessesFromReads, blockEventsToReads } from '../src/sim/physical.js';
import type { BlockEvent } from '../src/trace/types.js';
import { syntheticLayout, syntheticTree } from './helpers/synthetic-layout.js';

// A test asserts behaviour, never time: how long this takes depends on the machine's load.
t.test('a 1,000,000-event trace: every event simulated, page under 10 MB', async (t) => {
  const layout = syntheticLayout(syntheticTree(200, 100), { blockSize: 131072, ratio: 0.4, source: 'big.iso' });
  const dataExtents = layout.extents.filter((e) => e.kind === 'data-block' || e.kind === 'fragment-block');
  const random = mulberry32(2026);
  // runs of sequential 4 KiB reads from random places, like readahead behind page-cache misses
  const events: BlockEvent[] = [];
  let offset = 0;
  for (let seq = 0; seq < 1_000_000; seq++) {
    if (seq % 16 === 0) offset = dataExtents[Math.floor(random() * dataExtents.length)]!.start;
    events.push({ kind: 'block', seq, device: 'sr0', offset, length: 4096 });
    offset += 4096;
  }
  const physical = blockEventsToReads(events, layout);
  const accesses = accessesFromReads(physical.reads, layout);
  const { html, model } = buildReportWithModel({
    images: [
      { name: 'big', layout },
      { name: 'big again', layout },
    ],
    accesses,
    physical: [{ name: '1M events', reads: physical }],
  });
  const bytes = Buffer.byteLength(html);
  t.equal(model.scenarios[0]!.totals[0]!.totals.reads, 1_000_000, 'every event was simulated');
  t.ok(accesses.length > 1000, `the profile has ${accesses.length} files`);
  t.ok(bytes < 10 * 1024 * 1024, `page is ${(bytes / 1048576).toFixed(2)} MB`);
  t.same(model.regressions, [], 'the same image twice is no regression');
});
