import { InputError } from '../errors.js';
import type { DeviceModel } from '../sim/device.js';
import type { Comparison, ImageComparison } from '../sim/compare.js';
import type { CostTotals, DeviceRun } from '../sim/drive.js';
import type { Scenario, ScenarioResult } from '../sim/evaluate.js';
import type { KernelOptions } from '../sim/page-cache.js';
import type { Evaluation } from '../sim/scenarios.js';

export type { Comparison, ComparisonRow } from '../sim/compare.js';

/**
 * The report's view-model: what the page shows, shaped from an evaluation (src/sim/scenarios.ts)
 * and its image comparison (src/sim/compare.ts), aggregated to a size that does not grow with the
 * trace (charts hold at most a few hundred points per series). Nothing here runs the simulation.
 */

/** What the page shows that the evaluation does not hold. */
export interface ReportViewOptions {
  title?: string;
  /** Shown in the header; injected so that output is reproducible. */
  generatedAt?: string;
  /** Trace files the profile came from, for the methodology section. */
  traceNames?: readonly string[];
}

export interface HeadSeries {
  label: string;
  /** Bucketed over simulated time: lowest and highest read offset in each bucket (NaN: no read). */
  lo: number[];
  hi: number[];
  /** Offset of the first and last read in each bucket, to draw the path between buckets. */
  first: number[];
  last: number[];
  /** Simulated ms at the end of the run. */
  endMs: number;
  /** Metadata tables of this series' image (inode, directory, fragment, id), to shade. */
  bands: { start: number; end: number }[];
}

export interface CostSeries {
  label: string;
  /** Cumulative simulated seconds after each percent of the boot's progress (101 points). */
  seconds: number[];
}

export interface TopFile {
  path: string;
  seeks: number;
  positioningMs: number;
  maxDistance: number;
}

export interface ScenarioView {
  label: string;
  image: string;
  layout: string;
  description: string;
  missing: number;
  missingSample: string[];
  totals: { device: string; totals: CostTotals }[];
  topFiles: TopFile[];
  histogram: number[];
}

export interface ReportModel {
  title: string;
  generatedAt?: string;
  devices: readonly DeviceModel[];
  chartDevice: DeviceModel;
  /** Each device's seek-curve exponent by id, as the evaluation used it (the method section prints the formula). */
  seekExponents: Readonly<Record<string, number>>;
  kernel: KernelOptions;
  seed: number;
  threshold: number;
  images: { name: string; source: string; size: number; files: number; extents: number; blockSize?: number; compressor?: string }[];
  accesses: number;
  traceNames: readonly string[];
  scenarios: ScenarioView[];
  head: HeadSeries[];
  imageSize: number;
  cost: CostSeries[];
  /** Lower edges of the seek-distance buckets, bytes. */
  histogramEdges: number[];
  comparisons: Comparison[];
  /** One line per regression. */
  regressions: string[];
}

const HEAD_BUCKETS = 400;
const METADATA_KINDS = new Set(['inode-table', 'directory-table', 'fragment-table', 'id-table', 'export-table', 'xattr-table']);
const TOP_FILES = 12;
const HISTOGRAM_EDGES = [0, 4096, 65536, 1 << 20, 16 << 20, 64 << 20, 256 << 20, 1 << 30];

/** Shape the page's views from an evaluation and its comparison; the charts follow `evaluation.detailDevice`. */
export function shapeReportModel(evaluation: Evaluation, comparison: ImageComparison, view: ReportViewOptions = {}): ReportModel {
  const chartDevice = evaluation.detailDevice;
  const results = evaluation.results;
  const maxEnd = Math.max(1e-9, ...results.map((r) => detailRun(r, chartDevice).detail!.endMs.at(-1) ?? 0));
  const scenarios: ScenarioView[] = results.map((r) => {
    const run = detailRun(r, chartDevice);
    return {
      label: r.label,
      image: r.scenario.image,
      layout: r.scenario.layout,
      description: r.scenario.description,
      missing: r.scenario.missing.length,
      missingSample: r.scenario.missing.slice(0, 20),
      totals: r.runs.map((x) => ({ device: x.device, totals: x.totals })),
      topFiles: topFiles(r.scenario, run),
      histogram: seekHistogram(run),
    };
  });
  return {
    title: view.title ?? 'Boot seek-cost report',
    ...(view.generatedAt !== undefined ? { generatedAt: view.generatedAt } : {}),
    devices: evaluation.devices,
    chartDevice,
    seekExponents: evaluation.seekExponents,
    kernel: evaluation.kernel,
    seed: evaluation.seed,
    threshold: comparison.threshold,
    images: evaluation.images.map((i) => ({
      name: i.name,
      source: i.layout.source,
      size: i.layout.size,
      files: i.layout.files.length,
      extents: i.layout.extents.length,
      ...(i.layout.blockSize !== undefined ? { blockSize: i.layout.blockSize } : {}),
      ...(i.layout.compressor !== undefined ? { compressor: i.layout.compressor } : {}),
    })),
    accesses: evaluation.accesses,
    traceNames: view.traceNames ?? [],
    scenarios,
    head: results.map((r) => headSeries(r.label, r, chartDevice, maxEnd)),
    imageSize: Math.max(...evaluation.images.map((i) => i.layout.size)),
    cost: results.map((r) => costSeries(r.label, r, chartDevice)),
    histogramEdges: HISTOGRAM_EDGES,
    comparisons: comparison.comparisons,
    regressions: comparison.regressions.map((r) => r.message),
  };
}

function detailRun(r: ScenarioResult, device: DeviceModel): DeviceRun {
  const run = r.runs.find((x) => x.device === device.id);
  if (!run?.detail) throw new InputError(`the evaluation has no per-read detail on ${device.id}`);
  return run;
}

function headSeries(label: string, r: ScenarioResult, device: DeviceModel, maxEnd: number): HeadSeries {
  const run = detailRun(r, device);
  const lo = new Array<number>(HEAD_BUCKETS).fill(NaN);
  const hi = new Array<number>(HEAD_BUCKETS).fill(NaN);
  const first = new Array<number>(HEAD_BUCKETS).fill(NaN);
  const last = new Array<number>(HEAD_BUCKETS).fill(NaN);
  const reads = r.scenario.reads;
  const end = run.detail!.endMs;
  for (let i = 0; i < reads.count; i++) {
    const b = Math.min(HEAD_BUCKETS - 1, Math.floor((end[i]! / maxEnd) * HEAD_BUCKETS));
    const o = reads.offset[i]!;
    if (!(lo[b]! <= o)) lo[b] = o;
    if (!(hi[b]! >= o)) hi[b] = o;
    if (Number.isNaN(first[b]!)) first[b] = o;
    last[b] = o;
  }
  const bands = r.scenario.layoutModel.extents
    .filter((e) => METADATA_KINDS.has(e.kind))
    .map((e) => ({ start: e.start, end: e.start + e.length }));
  return { label, lo, hi, first, last, endMs: end.at(-1) ?? 0, bands };
}

function costSeries(label: string, r: ScenarioResult, device: DeviceModel): CostSeries {
  const run = detailRun(r, device);
  const reads = r.scenario.reads;
  const end = run.detail!.endMs;
  let maxStep = 0;
  for (let i = 0; i < reads.count; i++) maxStep = Math.max(maxStep, reads.step[i]!);
  const seconds = new Array<number>(101).fill(0);
  let last = 0;
  let bucket = 0;
  for (let i = 0; i < reads.count; i++) {
    const b = maxStep > 0 ? Math.floor((reads.step[i]! / maxStep) * 100) : 100;
    while (bucket < b) seconds[bucket++] = last / 1000;
    last = end[i]!;
  }
  while (bucket <= 100) seconds[bucket++] = last / 1000;
  return { label, seconds };
}

function seekHistogram(run: DeviceRun): number[] {
  const counts = new Array<number>(HISTOGRAM_EDGES.length).fill(0);
  const d = run.detail!.seekDistance;
  for (let i = 0; i < d.length; i++) {
    const x = d[i]!;
    if (x <= 0) continue;
    let b = HISTOGRAM_EDGES.length - 1;
    while (b > 0 && x < HISTOGRAM_EDGES[b]!) b--;
    counts[b]!++;
  }
  return counts;
}

function topFiles(scenario: Scenario, run: DeviceRun): TopFile[] {
  const reads = scenario.reads;
  const detail = run.detail!;
  const byFile = new Map<number, TopFile>();
  for (let i = 0; i < reads.count; i++) {
    const cost = detail.positioningMs[i]!;
    if (cost <= 0) continue;
    const f = reads.file[i]!;
    let entry = byFile.get(f);
    if (!entry) {
      const path = f >= 0 ? (scenario.layoutModel.files[f]?.path ?? `file #${f}`) : '(squashfs metadata, or outside any file)';
      entry = { path, seeks: 0, positioningMs: 0, maxDistance: 0 };
      byFile.set(f, entry);
    }
    entry.seeks++;
    entry.positioningMs += cost;
    entry.maxDistance = Math.max(entry.maxDistance, detail.seekDistance[i]!);
  }
  return [...byFile.values()].sort((a, b) => b.positioningMs - a.positioningMs).slice(0, TOP_FILES);
}
