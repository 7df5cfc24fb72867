import { readFileSync } from 'node:fs';
import t from 'tap';
import { buildReportModel } from '../src/cli/report-pipeline.js';
import { shapeReportModel } from '../src/report/index.js';
import { compareImages } from '../src/sim/compare.js';
import { CD24_CLV, CD52_CAV, SATA_SSD } from '../src/sim/devices.js';
import { evaluateScenarios } from '../src/sim/scenarios.js';
import { sampleReportInput } from './helpers/report-input.js';

t.test('the report shapes views from an evaluation it is given', async (t) => {
  const input = { ...sampleReportInput(), devices: [CD52_CAV, SATA_SSD], chartDevice: CD24_CLV.id };
  const evaluation = evaluateScenarios({ ...input, detailDevice: CD24_CLV.id });
  const comparison = compareImages(evaluation, 0.01);
  const model = shapeReportModel(evaluation, comparison, { title: 'T', traceNames: ['x.log'], generatedAt: 'then' });

  t.equal(model.title, 'T');
  t.equal(model.generatedAt, 'then');
  t.same(model.traceNames, ['x.log']);
  t.equal(model.chartDevice.id, 'cd24-clv');
  t.same(model.devices.map((d) => d.id), ['cd24-clv', 'cd52-cav', 'sata-ssd']);
  t.equal(model.threshold, 0.01);
  t.equal(model.accesses, input.accesses.length);
  t.same(model.scenarios.map((s) => s.label), evaluation.results.map((r) => r.label));
  t.same(model.head.map((h) => h.label), evaluation.results.map((r) => r.label));
  t.same(model.cost.map((c) => c.label), evaluation.results.map((r) => r.label));
  evaluation.results.forEach((r, i) => {
    const view = model.scenarios[i]!;
    t.same(view.totals, r.runs.map((x) => ({ device: x.device, totals: x.totals })), `${r.label}: totals as evaluated`);
    const chart = r.runs.find((x) => x.device === 'cd24-clv')!.totals;
    t.equal(view.histogram.reduce((a, b) => a + b, 0), chart.seeks, `${r.label}: the histogram holds every seek on the chart device`);
    t.ok(view.topFiles.reduce((n, f) => n + f.seeks, 0) <= chart.seeks, `${r.label}: top files blame no more seeks than there are`);
    t.equal(model.cost[i]!.seconds.length, 101);
    t.ok(Math.abs(model.cost[i]!.seconds[100]! - chart.totalMs / 1000) < 1e-9, `${r.label}: the cost curve ends at the total`);
  });
  t.ok(comparison.regressions.length > 0, 'the sample release 2 is slower');
  t.same(model.regressions, comparison.regressions.map((r) => r.message));
  t.same(model.comparisons, comparison.comparisons);

  const relaxed = shapeReportModel(evaluation, compareImages(evaluation, Infinity));
  t.same(relaxed.regressions, [], 'regressions come from the comparison given, not from the report');
  t.equal(relaxed.title, 'Boot seek-cost report');
  t.notOk('generatedAt' in relaxed, 'no date unless given');

  t.throws(() => shapeReportModel({ ...evaluation, detailDevice: CD52_CAV }, comparison), { code: 'EINPUT' }, 'no per-read detail on the chart device');

  // the one-call path runs the same sim API
  const once = buildReportModel({ ...input, regressionThreshold: 0.01, title: 'T', traceNames: ['x.log'], generatedAt: 'then' });
  t.same(once, model);
});

t.test('report/model.ts imports only types from src/sim; simulate imports nothing from src/report', async (t) => {
  const source = (rel: string): string => readFileSync(new URL(`../src/${rel}`, import.meta.url), 'utf8');
  const imports = (text: string): string[] => [...text.matchAll(/^(?:import|export)\b[^;]*?from '([^']+)';/gms)].map((m) => m[0]);
  const model = imports(source('report/model.ts'));
  const fromSim = model.filter((s) => s.includes("'../sim/"));
  t.ok(fromSim.length > 0, 'the model names sim types');
  for (const s of fromSim) t.match(s, /^(import|export) type /, s);
  for (const s of imports(source('cli/commands/simulate.ts'))) t.notMatch(s, /report\//, s);
});
