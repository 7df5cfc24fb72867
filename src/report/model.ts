import { InputError } from '../errors.js';
import type { Layout } from '../image/layout.js';
import { candidateLayouts, type Candidate } from '../sim/candidates.js';
import type { DeviceModel } from '../sim/device.js';
import { DEVICES, deviceById } from '../sim/devices.js';
import type { CostTotals, DeviceRun } from '../sim/drive.js';
import { physicalScenario, profileScenario, runScenarios, type Scenario, type ScenarioResult } from '../sim/evaluate.js';
import { DEFAULT_READAHEAD_BYTES, type KernelOptions } from '../sim/page-cache.js';
import type { PhysicalReads } from '../sim/physical.js';
import type { FileAccess } from '../sim/replay.js';

/**
 * The report's view-model: everything the page shows, computed once, aggregated to a size that
 * does not grow with the trace (charts hold at most a few hundred points per series).
 */
export interface ReportInput {
  title?: string;
  /** Shown in the header; injected so that output is reproducible. */
  generatedAt?: string;
  /** The first image is the base: candidate layouts and physical traces refer to it. */
  images: { name: string; layout: Layout }[];
  /** The boot's file accesses in first-access order (regular files). */
  accesses: readonly FileAccess[];
  /** Every path the boot touched, directories included (what the seed's sort file listed). Default: accesses. */
  touchedPaths?: readonly string[];
  /** Block traces recorded while booting the first image. */
  physical?: { name: string; reads: PhysicalReads }[];
  devices?: readonly DeviceModel[];
  /** Device whose per-read detail feeds the charts. Default: the first device. */
  chartDevice?: string;
  kernel?: KernelOptions;
  /** Seed of the random baseline layout. */
  seed?: number;
  /** A later image slower than the first by more than this fraction on some device is a regression. Default 0.05. */
  regressionThreshold?: number;
  /** Trace files the profile came from, for the methodology section. */
  traceNames?: readonly string[];
  /** More layouts of the first image (e.g. rebuilt with mksquashfs), costed after the predicted ones. */
  extraLayouts?: readonly Candidate[];
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

export interface ComparisonRow {
  device: string;
  baseMs: number;
  otherMs: number;
  /** (other - base) / base */
  change: number;
  regression: boolean;
}

export interface Comparison {
  base: string;
  other: string;
  rows: ComparisonRow[];
}

export interface ReportModel {
  title: string;
  generatedAt?: string;
  devices: readonly DeviceModel[];
  chartDevice: DeviceModel;
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
  regressions: string[];
}

const HEAD_BUCKETS = 400;
const METADATA_KINDS = new Set(['inode-table', 'directory-table', 'fragment-table', 'id-table', 'export-table', 'xattr-table']);
const TOP_FILES = 12;
const HISTOGRAM_EDGES = [0, 4096, 65536, 1 << 20, 16 << 20, 64 << 20, 256 << 20, 1 << 30];

export function buildReportModel(input: ReportInput): ReportModel {
  if (input.images.length === 0) throw new InputError('a report needs at least one image');
  const devices = input.devices ?? DEVICES;
  if (devices.length === 0) throw new InputError('a report needs at least one device');
  const chartDevice =
    input.chartDevice === undefined
      ? devices[0]!
      : (devices.find((d) => d.id === input.chartDevice) ?? deviceById(input.chartDevice));
  const allDevices = devices.some((d) => d.id === chartDevice.id) ? devices : [chartDevice, ...devices];
  const kernel = input.kernel ?? { readaheadBytes: DEFAULT_READAHEAD_BYTES };
  const seed = input.seed ?? 1;
  const threshold = input.regressionThreshold ?? 0.05;
  const base = input.images[0]!;
  const multi = input.images.length > 1;
  const profiledFiles = input.accesses.map((a) => a.path);

  const scenarios: Scenario[] = [];
  for (const p of input.physical ?? []) {
    scenarios.push(physicalScenario(base.name, `measured (${p.name})`, 'the recorded block reads of this boot, as the drive saw them', base.layout, p.reads, kernel));
  }
  const candidates = candidateLayouts(base.layout, {
    profiledFiles,
    touchedPaths: input.touchedPaths ?? profiledFiles,
    seed,
  });
  for (const c of [...candidates, ...(input.extraLayouts ?? [])]) {
    scenarios.push(profileScenario(base.name, c.name, c.description, c.layout, input.accesses, kernel));
  }
  for (const other of input.images.slice(1)) {
    const [asIs, sorted] = candidateLayouts(other.layout, { profiledFiles, touchedPaths: profiledFiles, seed });
    for (const c of [asIs!, sorted!]) scenarios.push(profileScenario(other.name, c.name, c.description, c.layout, input.accesses, kernel));
  }

  const results = runScenarios(scenarios, allDevices, chartDevice.id);
  const label = (s: Scenario): string => (multi ? `${s.image}: ${s.layout}` : s.layout);
  const maxEnd = Math.max(1e-9, ...results.map((r) => detailRun(r, chartDevice).detail!.endMs.at(-1) ?? 0));

  const views: ScenarioView[] = results.map((r) => {
    const run = detailRun(r, chartDevice);
    return {
      label: label(r.scenario),
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

  const comparisons: Comparison[] = [];
  const regressions: string[] = [];
  const asIsOf = (image: string): ScenarioResult | undefined =>
    results.find((r) => r.scenario.image === image && r.scenario.layout === 'as is');
  const baseResult = asIsOf(base.name);
  for (const other of input.images.slice(1)) {
    const otherResult = asIsOf(other.name);
    if (!baseResult || !otherResult) continue;
    const rows = allDevices.map((d, i) => {
      const baseMs = baseResult.runs[i]!.totals.totalMs;
      const otherMs = otherResult.runs[i]!.totals.totalMs;
      const change = baseMs > 0 ? (otherMs - baseMs) / baseMs : 0;
      const regression = change > threshold;
      if (regression) {
        regressions.push(`${other.name} is ${(change * 100).toFixed(1)}% slower than ${base.name} on ${d.name}`);
      }
      return { device: d.id, baseMs, otherMs, change, regression };
    });
    comparisons.push({ base: base.name, other: other.name, rows });
  }

  return {
    title: input.title ?? 'Boot seek-cost report',
    ...(input.generatedAt !== undefined ? { generatedAt: input.generatedAt } : {}),
    devices: allDevices,
    chartDevice,
    kernel,
    seed,
    threshold,
    images: input.images.map((i) => ({
      name: i.name,
      source: i.layout.source,
      size: i.layout.size,
      files: i.layout.files.length,
      extents: i.layout.extents.length,
      ...(i.layout.blockSize !== undefined ? { blockSize: i.layout.blockSize } : {}),
      ...(i.layout.compressor !== undefined ? { compressor: i.layout.compressor } : {}),
    })),
    accesses: input.accesses.length,
    traceNames: input.traceNames ?? [],
    scenarios: views,
    head: results.map((r) => headSeries(label(r.scenario), r, chartDevice, maxEnd)),
    imageSize: Math.max(...input.images.map((i) => i.layout.size)),
    cost: results.map((r) => costSeries(label(r.scenario), r, chartDevice)),
    histogramEdges: HISTOGRAM_EDGES,
    comparisons,
    regressions,
  };
}

function detailRun(r: ScenarioResult, device: DeviceModel): DeviceRun {
  const run = r.runs.find((x) => x.device === device.id);
  if (!run?.detail) throw new Error(`no detail run for ${device.id}`);
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
