import type { DeviceModel } from '../sim/device.js';
import { comparisonChart } from './charts/comparison-bars.js';
import { formatBytes, formatMs } from './charts/common.js';
import { cumulativeCostChart } from './charts/cumulative-cost.js';
import { deviceBarsChart } from './charts/device-bars.js';
import { headPositionChart } from './charts/head-position.js';
import { seekHistogramChart } from './charts/seek-histogram.js';
import { escapeJson, html, trustedMarkup, type SafeHtml } from './html.js';
import type { ReportModel, ScenarioView } from './model.js';

/** The page: a pure function of the model. No script runs in it; the CSP forbids any. */
export function renderReport(m: ReportModel): string {
  const deviceName = new Map(m.devices.map((d) => [d.id, d.name]));
  const chartName = m.chartDevice.name;
  const head = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${m.title}</title>
<style>${trustedMarkup(CSS)}</style>
</head>
<body>
<header>
<h1>${m.title}</h1>
<p class="meta">${m.generatedAt ? html`Generated ${m.generatedAt}. ` : ''}Boot profile of ${m.accesses} file accesses${
    m.traceNames.length > 0 ? html` from ${m.traceNames.join(', ')}` : ''
  }. Charts use the ${chartName} model.</p>
</header>
${summary(m)}
${imagesTable(m)}`;

  const sections = [
    html`<section id="devices"><h2>Estimated I/O time per device</h2>
<p>Each bar splits the estimated time into seek, rotational wait and transfer; the black tick is the lower bound (the same bytes read in one sweep).</p>
<div class="grid">${m.devices.map((d) =>
      trustedMarkup(
        deviceBarsChart(
          d.name,
          m.scenarios.map((s) => ({ label: s.label, totals: totalsOn(s, d.id) })),
        ),
      ),
    )}</div>
${figuresTable(m)}</section>`,
    html`<section id="head"><h2>Head position over time</h2>
<p>Where the ${chartName} reads, over simulated I/O time. The shaded band is the squashfs metadata (inode, directory, fragment and id tables) at the end of the image: every jump there is a long seek.</p>
<div class="grid">${m.head.map((s, i) =>
      trustedMarkup(
        headPositionChart(s, {
          index: i,
          maxMs: Math.max(...m.head.map((h) => h.endMs), 1e-6),
          imageSize: m.imageSize,
          device: chartName,
        }),
      ),
    )}</div></section>`,
    html`<section id="cost"><h2>Cumulative cost over the boot</h2>${trustedMarkup(cumulativeCostChart(m.cost, chartName))}</section>`,
    html`<section id="seeks"><h2>Seek distances</h2>${trustedMarkup(
      seekHistogramChart(
        m.scenarios.map((s) => ({ label: s.label, counts: s.histogram })),
        m.histogramEdges,
        chartName,
      ),
    )}</section>`,
    html`<section id="blame"><h2>Files behind the longest seeks</h2>
<p>Seek and rotational time paid to reach each file's blocks on the ${chartName}, largest first.</p>
${m.scenarios.map((s, i) => topFilesTable(s, i < 2))}</section>`,
    m.comparisons.length > 0 ? comparisonSection(m, deviceName) : '',
    methodology(m),
    html`<script type="application/json" id="bootprof-data">${trustedMarkup(escapeJson(dataBlock(m)))}</script>`,
  ];
  return `${head.value}\n${sections.map((s) => (typeof s === 'string' ? s : s.value)).join('\n')}\n</body>\n</html>\n`;
}

function totalsOn(s: ScenarioView, device: string): ScenarioView['totals'][number]['totals'] {
  return s.totals.find((t) => t.device === device)!.totals;
}

function summary(m: ReportModel): SafeHtml {
  const lines: SafeHtml[] = [];
  const base = m.scenarios.find((s) => s.layout === 'as is');
  const sorted = m.scenarios.find((s) => s.layout === 'sorted' && s.image === base?.image);
  if (base && sorted) {
    const ofBase = m.scenarios.filter((s) => s.image === base.image);
    for (const d of m.devices) {
      const a = totalsOn(base, d.id).totalMs;
      const b = totalsOn(sorted, d.id).totalMs;
      const saved = a > 0 ? ((a - b) / a) * 100 : 0;
      const best = ofBase.reduce((x, y) => (totalsOn(y, d.id).totalMs < totalsOn(x, d.id).totalMs ? y : x));
      const bestNote =
        best.layout === 'sorted' || best.layout === 'as is' ? '' : html`; best: ${best.layout}, ${formatMs(totalsOn(best, d.id).totalMs)}`;
      lines.push(
        html`<li><strong>${d.name}</strong>: ${formatMs(a)} as is, ${formatMs(b)} sorted (${saved >= 0 ? `${saved.toFixed(0)}% less` : `${(-saved).toFixed(0)}% more`})${bestNote}.</li>`,
      );
    }
  }
  const missing = Math.max(0, ...m.scenarios.map((s) => s.missing));
  return html`<section id="summary"><h2>Summary</h2>
${m.regressions.length > 0 ? html`<div class="regression"><strong>Regression</strong> (past ${(m.threshold * 100).toFixed(1)}%):<ul>${m.regressions.map((r) => html`<li>${r}</li>`)}</ul></div>` : ''}
<ul>${lines}</ul>
${missing > 0 ? html`<p class="warn">${missing} profiled paths are not in some image (see the tables below); their reads are not counted there.</p>` : ''}
</section>`;
}

function imagesTable(m: ReportModel): SafeHtml {
  return html`<section id="images"><h2>Images</h2><table><thead><tr><th>name</th><th>file</th><th>size</th><th>files</th><th>extents</th><th>block size</th><th>compressor</th></tr></thead><tbody>${m.images.map(
    (i) =>
      html`<tr><td>${i.name}</td><td>${i.source}</td><td class="n">${formatBytes(i.size)}</td><td class="n">${i.files}</td><td class="n">${i.extents}</td><td class="n">${i.blockSize === undefined ? '' : formatBytes(i.blockSize)}</td><td>${i.compressor ?? ''}</td></tr>`,
  )}</tbody></table></section>`;
}

function figuresTable(m: ReportModel): SafeHtml {
  const rows: SafeHtml[] = [];
  for (const d of m.devices) {
    const base = m.scenarios.find((s) => s.layout === 'as is');
    const baseMs = base ? totalsOn(base, d.id).totalMs : 0;
    m.scenarios.forEach((s, i) => {
      const t = totalsOn(s, d.id);
      const vs = baseMs > 0 ? ((t.totalMs - baseMs) / baseMs) * 100 : 0;
      rows.push(html`<tr${i === 0 ? trustedMarkup(' class="first"') : ''}><td>${i === 0 ? d.name : ''}</td><td>${s.label}</td><td class="n">${t.reads}</td><td class="n">${formatBytes(t.bytes)}</td><td class="n">${t.seeks}</td><td class="n">${formatBytes(t.seekDistance)}</td><td class="n">${formatMs(t.seekMs)}</td><td class="n">${formatMs(t.rotationMs)}</td><td class="n">${formatMs(t.transferMs)}</td><td class="n"><strong>${formatMs(t.totalMs)}</strong></td><td class="n">${formatMs(t.lowerBoundMs)}</td><td class="n">${base && s !== base ? `${vs >= 0 ? '+' : ''}${vs.toFixed(1)}%` : ''}</td></tr>`);
    });
  }
  return html`<table class="figures"><thead><tr><th>device</th><th>layout</th><th>reads</th><th>bytes</th><th>seeks</th><th>seek distance</th><th>seek</th><th>rotation</th><th>transfer</th><th>total</th><th>lower bound</th><th>vs as is</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function topFilesTable(s: ScenarioView, open: boolean): SafeHtml {
  const body = html`<summary>${s.label}${s.missing > 0 ? html` <span class="warn">(${s.missing} profiled paths not in this image)</span>` : ''}</summary>
<table><thead><tr><th>file</th><th>seeks</th><th>seek + rotation</th><th>longest jump</th></tr></thead><tbody>${s.topFiles.map(
    (f) => html`<tr><td class="path">${f.path}</td><td class="n">${f.seeks}</td><td class="n">${formatMs(f.positioningMs)}</td><td class="n">${formatBytes(f.maxDistance)}</td></tr>`,
  )}</tbody></table>${s.missingSample.length > 0 ? html`<p>Not in this image: ${s.missingSample.map((p, i) => html`${i > 0 ? ', ' : ''}<code>${p}</code>`)}${s.missing > s.missingSample.length ? ' …' : ''}</p>` : ''}`;
  return open ? html`<details open>${body}</details>` : html`<details>${body}</details>`;
}

function comparisonSection(m: ReportModel, names: ReadonlyMap<string, string>): SafeHtml {
  return html`<section id="comparison"><h2>Release comparison</h2>
<p>The same boot profile replayed on each image as built. A change above ${(m.threshold * 100).toFixed(1)}% on any device is flagged as a regression.</p>
${m.comparisons.map(
  (c) => html`${trustedMarkup(comparisonChart(c, names, m.threshold))}
<table><thead><tr><th>device</th><th>${c.base}</th><th>${c.other}</th><th>change</th></tr></thead><tbody>${c.rows.map(
    (r) => html`<tr${r.regression ? trustedMarkup(' class="bad"') : ''}><td>${names.get(r.device) ?? r.device}</td><td class="n">${formatMs(r.baseMs)}</td><td class="n">${formatMs(r.otherMs)}</td><td class="n">${r.change >= 0 ? '+' : ''}${(r.change * 100).toFixed(1)}%${r.regression ? ' regression' : ''}</td></tr>`,
  )}</tbody></table>`,
)}</section>`;
}

/** `exponent`: the seek curve's, as the evaluation computed it (ReportModel.seekExponents). */
function deviceParameters(d: DeviceModel, exponent: number): string {
  const parts: string[] = [];
  const g = d.geometry;
  if (g.kind === 'spiral') parts.push(`spiral ${g.innerRadiusMm}–${g.outerRadiusMm} mm over ${formatBytes(g.capacityBytes)}`);
  if (g.kind === 'linear') parts.push(`stroke = offset / ${formatBytes(g.capacityBytes)}`);
  const s = d.spindle;
  if (s.kind === 'cav') parts.push(`CAV ${s.rpm} rpm, ${(s.maxBytesPerSecond / 1e6).toFixed(2)} MB/s at the outer edge`);
  if (s.kind === 'clv') parts.push(`CLV ${(s.bytesPerSecond / 1e6).toFixed(2)} MB/s, ${s.innerRpm} rpm at the inner edge, speed change ${s.fullSpeedChangeMs} ms full range`);
  if (s.kind === 'fixed') parts.push(`${s.rpm} rpm, ${(s.bytesPerSecond / 1e6).toFixed(0)} MB/s`);
  if (s.kind === 'none') parts.push(`${(s.bytesPerSecond / 1e6).toFixed(0)} MB/s, no rotation`);
  if (g.kind === 'none') parts.push(`${d.seek.averageMs} ms per non-contiguous read`);
  else parts.push(`seek ${d.seek.minMs} + ${d.seek.fullStrokeMs - d.seek.minMs} × stroke^${exponent.toFixed(3)} ms (average ${d.seek.averageMs} ms at 1/3 stroke)`);
  parts.push(`sector ${d.sectorBytes} B, read-ahead buffer ${formatBytes(d.bufferBytes)}`);
  return parts.join('; ');
}

function methodology(m: ReportModel): SafeHtml {
  return html`<section id="methodology"><h2>Methodology</h2>
<p>qemu's emulated CD has no seek cost, so the time comes from a model of the drive fed with the boot's reads.
A file-level profile is replayed onto each layout: for each file in first-access order, squashfs reads every compressed data block (or the fragment block) it needs, whole; the first access to a file also reads an 8 KiB block of the inode table and of the directory table, at the file's position in the walk order (an estimate: the exact metadata block is not in the layout).
These reads go through the guest's page cache: a miss grows into a readahead window of at most ${formatBytes(m.kernel.readaheadBytes)} (sr0's read_ahead_kb), following mm/readahead.c in outline; pages stay cached for the whole boot.
A measured trace (qemu, blktrace) is used as recorded.</p>
<p>The drive takes reads in order. A read inside the bytes it has buffered is free; a read at the head, or a short way ahead within its read-ahead buffer, streams on when that is cheaper than seeking; any other read pays a seek (a function of the radial distance), half a revolution at the target radius, and the transfer at the rate of that radius. The head starts parked at the start of the image with the disc spinning. No CPU time overlaps the I/O: the figures are the time the boot waits for the drive, if it waited for every read.</p>
<p>The <strong>lower bound</strong> is the transfer time of the union of the bytes each layout reads, in one sweep, with no seek and no rotational wait. Transfer time is additive over byte ranges, so no layout can beat it.</p>
<p>Candidate layouts are predicted without rebuilding: the original's compressed blocks are moved in the order a mksquashfs sort file would write them (higher priority first; files not listed take their nearest listed directory's priority, else 0; equal priorities in reverse walk order). Tails are repacked into fragment blocks in the same order. Metadata tables stay at the end. With --root, the sort file is also built for real by mksquashfs. The random baseline uses seed ${m.seed}.</p>
<ul>${m.scenarios
    .filter((s, i, all) => all.findIndex((x) => x.layout === s.layout) === i)
    .map((s) => html`<li><strong>${s.layout}</strong>: ${s.description}</li>`)}</ul>
<h3>Device models</h3>
<table><thead><tr><th>device</th><th>model</th></tr></thead><tbody>${m.devices.map(
    (d) => html`<tr><td>${d.name}</td><td>${deviceParameters(d, m.seekExponents[d.id] ?? NaN)}</td></tr>`,
  )}</tbody></table>
<h3>Sources</h3>
${m.devices.map(
  (d) => html`<details><summary>${d.name}</summary><table><thead><tr><th>parameter</th><th>figure</th><th>source</th></tr></thead><tbody>${d.sources.map(
    (s) => html`<tr><td>${s.parameter}</td><td>${s.value}</td><td>${s.source}${s.estimate ? html` <span class="estimate">estimate</span>` : ''}</td></tr>`,
  )}</tbody></table></details>`,
)}
</section>`;
}

/** Machine-readable totals, for tools that read the report. */
function dataBlock(m: ReportModel): unknown {
  return {
    title: m.title,
    chartDevice: m.chartDevice.id,
    threshold: m.threshold,
    regressions: m.regressions,
    scenarios: m.scenarios.map((s) => ({ image: s.image, layout: s.layout, missing: s.missing, totals: s.totals })),
    comparisons: m.comparisons,
  };
}

const CSS = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 0 16px 48px; color: #222; }
h1 { font-size: 22px; margin: 16px 0 4px; } h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; }
.meta { color: #555; }
table { border-collapse: collapse; margin: 8px 0; font-size: 12px; }
th, td { border-bottom: 1px solid #e4e4e4; padding: 3px 8px; text-align: left; vertical-align: top; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.path { font-family: ui-monospace, monospace; word-break: break-all; }
tr.first td { border-top: 2px solid #bbb; }
tr.bad td { background: #fbe3dc; }
.grid { display: flex; flex-wrap: wrap; gap: 8px; }
.chart { background: #fff; border: 1px solid #eee; max-width: 100%; height: auto; }
.regression { background: #fbe3dc; border: 1px solid #d55e00; padding: 8px 12px; }
.warn { color: #a04000; }
.estimate { background: #fff3c4; padding: 0 4px; border-radius: 3px; font-size: 11px; }
details { margin: 6px 0; } summary { cursor: pointer; font-weight: 600; }
`;
