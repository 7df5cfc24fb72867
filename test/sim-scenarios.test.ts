import t from 'tap';
import type { Layout } from '../src/image/layout.js';
import { candidateLayouts } from '../src/sim/candidates.js';
import { compareImages, compareResults, DEFAULT_REGRESSION_THRESHOLD, relativeChange } from '../src/sim/compare.js';
import { CD24_CLV, CD52_CAV, DEVICES, SATA_SSD } from '../src/sim/devices.js';
import { FAR_SEEK_BYTES, farSeeks, simulateDevice } from '../src/sim/drive.js';
import { profileScenario, runScenarios } from '../src/sim/evaluate.js';
import { blockEventsToReads } from '../src/sim/physical.js';
import { readsFrom } from '../src/sim/reads.js';
import { buildScenarios, evaluateScenarios, resolveDevices, type EvaluationInput } from '../src/sim/scenarios.js';
import { syntheticLayout, syntheticTree, type SyntheticFile } from './helpers/synthetic-layout.js';

const KIB = 1024;
const MIB = 1024 * KIB;

t.test('far seeks: jumps of 256 KiB or more either way, counted by hand', async (t) => {
  t.equal(FAR_SEEK_BYTES, 256 * KIB);
  // every offset and length a whole 2 KiB sector, so distances are exact on every device
  const far1 = 100 * MIB; // forward from the start: far
  const near1 = far1 - 200 * KIB; // back 200 KiB + 2 KiB from the end of far1: a seek, not far
  const far2 = near1 - 256 * KIB + 2 * KIB; // back exactly 256 KiB from the end of near1: far (>=)
  const near2 = far2 + 2 * KIB - (256 * KIB - 2 * KIB); // back 256 KiB - 2 KiB: a seek, not far
  const reads = readsFrom([
    { offset: 0, length: 2048 }, // at the parked head: no seek
    { offset: far1, length: 2048 },
    { offset: near1, length: 2048 },
    { offset: far2, length: 2048 },
    { offset: near2, length: 2048 },
    { offset: 500 * MIB, length: 0 }, // asks for nothing: not a jump
    { offset: near2, length: 2048 }, // the same sector again: in a drive's buffer
  ]);
  t.equal(farSeeks(reads), 2, 'the stream has two far jumps');
  t.equal(farSeeks(reads, 200 * KIB), 4, 'a lower threshold counts the two near jumps too');
  t.equal(farSeeks(reads, 256 * KIB + 1), 1, 'one byte past 256 KiB leaves only the 100 MiB jump');
  t.equal(farSeeks(reads, FAR_SEEK_BYTES, far1), 3, 'the first read is measured from startOffset: from 100 MiB, the read at 0 is far too');
  t.equal(farSeeks(reads, FAR_SEEK_BYTES, 200 * KIB), 2, 'from 200 KiB it is not');
  t.equal(farSeeks(readsFrom([])), 0);

  const cd = simulateDevice(CD52_CAV, reads, { detail: true });
  t.same(
    Array.from(cd.detail!.seekDistance),
    [0, far1 - 2048, 206848, 262144, 260096, 0, 0],
    'the drive jumps the same distances (the re-read is a buffer hit)',
  );
  t.equal(cd.totals.seeks, 4);
  t.equal(cd.totals.farSeeks, 2, 'CD 52x: 2 of its 4 seeks are far');
  t.equal(cd.totals.hits, 1);
  for (const d of DEVICES) {
    const run = simulateDevice(d, reads);
    t.equal(run.totals.farSeeks, 2, `${d.id}: 2 far seeks`);
    t.ok(run.totals.seeks >= 4, `${d.id}: ${run.totals.seeks} seeks`);
  }
  t.equal(simulateDevice(SATA_SSD, reads).totals.seeks, 5, 'with no drive buffer the re-read is one more (near) seek');
});

/** Two releases: the second writes the files in reverse order and compresses worse. */
function releases(): { v1: Layout; v2: Layout; accesses: { path: string }[] } {
  const files: SyntheticFile[] = syntheticTree(20, 15);
  const v1 = syntheticLayout(files, { blockSize: 131072, ratio: 0.4, source: 'v1.iso' });
  const v2 = syntheticLayout([...files].reverse(), { blockSize: 131072, ratio: 0.6, source: 'v2.iso' });
  const accesses = v1.files.filter((_, i) => i % 7 === 2).map((f) => ({ path: f.path }));
  return { v1, v2, accesses };
}

t.test('evaluateScenarios: the scenarios in order, labelled, costed on every device', async (t) => {
  const { v1, v2, accesses } = releases();
  const extra = { name: 'mine', description: 'an optimizer layout', layout: candidateLayouts(v1, { profiledFiles: [], touchedPaths: [], seed: 3 })[4]!.layout };
  const events = v1.extents.filter((e) => e.kind === 'data-block').slice(0, 20).map((e, seq) => ({ kind: 'block' as const, seq, device: 'sr0', offset: e.start, length: e.length }));
  const input: EvaluationInput = {
    images: [
      { name: 'one', layout: v1 },
      { name: 'two', layout: v2 },
    ],
    accesses,
    physical: [{ name: 'qemu.log', reads: blockEventsToReads(events, v1) }],
    extraLayouts: [extra],
    devices: [CD52_CAV, SATA_SSD],
    detailDevice: CD24_CLV.id,
    kernel: { readaheadBytes: 64 * KIB },
    seed: 5,
  };
  const e = evaluateScenarios(input);
  t.same(e.results.map((r) => r.label), [
    'one: measured (qemu.log)',
    'one: as is',
    'one: sorted',
    'one: seed recipe',
    'one: layout end',
    'one: random',
    'one: mine',
    'two: as is',
    'two: sorted',
  ]);
  t.same(e.devices.map((d) => d.id), ['cd24-clv', 'cd52-cav', 'sata-ssd'], 'a detail device not asked for is costed first');
  t.equal(e.detailDevice.id, 'cd24-clv');
  t.equal(e.accesses, accesses.length);
  t.equal(e.seed, 5);
  t.same(e.kernel, { readaheadBytes: 64 * KIB });
  for (const r of e.results) {
    t.same(r.runs.map((x) => x.device), ['cd24-clv', 'cd52-cav', 'sata-ssd']);
    t.same(r.runs.map((x) => x.detail !== undefined), [true, false, false], `${r.label}: detail on the detail device only`);
  }
  // the core is the same profileScenario/runScenarios an optimizer calls directly
  const sorted = candidateLayouts(v2, { profiledFiles: accesses.map((a) => a.path), touchedPaths: [], seed: 5 })[1]!;
  const direct = runScenarios([profileScenario('two', 'sorted', sorted.description, sorted.layout, accesses, { readaheadBytes: 64 * KIB })], [CD52_CAV]);
  t.same(e.results.at(-1)!.runs[1]!.totals, direct[0]!.runs[0]!.totals, "'two: sorted' costs what a direct run of the same layout costs");
  t.equal(buildScenarios(input).length, e.results.length);

  const single = evaluateScenarios({ images: [{ name: 'one', layout: v1 }], accesses });
  t.same(single.results.map((r) => r.label), ['as is', 'sorted', 'seed recipe', 'layout end', 'random'], 'one image: labels are the layouts');
  t.same(single.devices, DEVICES, 'every device by default');
  t.equal(single.detailDevice, DEVICES[0]);
  t.equal(single.seed, 1);

  t.throws(() => evaluateScenarios({ images: [], accesses }), { code: 'EINPUT' });
  t.throws(() => resolveDevices([]), { code: 'EINPUT' });
  t.throws(() => resolveDevices(DEVICES, 'floppy'), { code: 'EINPUT', message: /unknown device "floppy"/ });
  t.same(resolveDevices([CD52_CAV, SATA_SSD], 'sata-ssd').devices.map((d) => d.id), ['cd52-cav', 'sata-ssd'], 'a detail device among the devices keeps its place');
});

t.test('compareImages: a regression above the threshold, none at or below it', async (t) => {
  const { v1, v2, accesses } = releases();
  const e = evaluateScenarios({
    images: [
      { name: 'v1', layout: v1 },
      { name: 'v2', layout: v2 },
    ],
    accesses,
    devices: [CD52_CAV, SATA_SSD],
  });
  const asIs = (image: string): (typeof e.results)[number] => e.results.find((r) => r.scenario.image === image && r.scenario.layout === 'as is')!;
  const changes = e.devices.map((d, i) => {
    const a = asIs('v1').runs[i]!.totals.totalMs;
    const b = asIs('v2').runs[i]!.totals.totalMs;
    t.equal(a > 0 && b > a, true, `${d.id}: v2 as built costs more (${a.toFixed(1)} -> ${b.toFixed(1)} ms)`);
    return (b - a) / a;
  });
  const [cdChange, ssdChange] = changes as [number, number];
  t.not(cdChange, ssdChange, 'the two devices see different changes');
  const low = Math.min(cdChange, ssdChange);
  const high = Math.max(cdChange, ssdChange);

  const all = compareImages(e, low / 2);
  t.equal(all.threshold, low / 2);
  t.equal(all.comparisons.length, 1);
  t.same(all.comparisons[0]!.rows.map((r) => [r.device, r.change, r.regression]), [
    ['cd52-cav', cdChange, true],
    ['sata-ssd', ssdChange, true],
  ]);
  t.same(all.regressions.map((r) => [r.other, r.base, r.device]), [
    ['v2', 'v1', 'cd52-cav'],
    ['v2', 'v1', 'sata-ssd'],
  ]);
  t.match(all.regressions[0]!.message, new RegExp(`^v2 is ${(cdChange * 100).toFixed(1)}% slower than v1 on CD-ROM`));

  const one = compareImages(e, low); // not past the smaller change (strictly greater), past the larger
  t.same(one.regressions.map((r) => r.change), [high], 'at the threshold exactly: no regression');
  t.same(one.comparisons[0]!.rows.map((r) => r.regression), changes.map((c) => c === high));
  t.same(compareImages(e, high).regressions, [], 'no device past the largest change');
  t.same(compareImages(e, Infinity).regressions, []);
  t.equal(compareImages(e).threshold, DEFAULT_REGRESSION_THRESHOLD);

  t.throws(() => compareImages(e, -0.01), { code: 'EINPUT' });
  t.throws(() => compareImages(e, NaN), { code: 'EINPUT' });

  const same = evaluateScenarios({
    images: [
      { name: 'a', layout: v1 },
      { name: 'b', layout: v1 },
    ],
    accesses,
    devices: [CD52_CAV],
  });
  const s = compareImages(same, 0);
  t.same(s.regressions, [], 'the same image twice is no regression, even at 0');
  t.same(s.comparisons[0]!.rows.map((r) => r.change), [0]);
  t.same(compareImages(evaluateScenarios({ images: [{ name: 'a', layout: v1 }], accesses })).comparisons, [], 'one image: nothing to compare');

  // any two results, e.g. an optimizer's layout against the image as built
  const sorted = e.results.find((r) => r.scenario.image === 'v1' && r.scenario.layout === 'sorted')!;
  const rows = compareResults(asIs('v1'), sorted, e.devices, 0);
  t.equal(rows.length, 2);
  t.ok(rows[0]!.change < 0 && !rows[0]!.regression, 'sorted is faster than as built on a CD: no regression');
  t.same(compareResults(asIs('v1'), sorted, [CD24_CLV]), [], 'a device neither was costed on gives no row');
  t.equal(relativeChange(0, 10), 0);
  t.equal(relativeChange(200, 250), 0.25);
});
