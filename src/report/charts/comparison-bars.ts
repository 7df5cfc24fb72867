import type { Comparison } from '../model.js';
import { axisLabel, frame, svgMarkup } from './common.js';

/** Release vs release: percent change of the estimated I/O time per device; past the threshold in red. */
export function comparisonChart(c: Comparison, deviceNames: ReadonlyMap<string, string>, threshold: number): string {
  const width = 760;
  const rowHeight = 24;
  const height = 60 + c.rows.length * rowHeight;
  const left = 170;
  const f = frame('comparison', `Change from ${c.base} to ${c.other}`, width, height, { top: 16, right: 60, bottom: 40, left });
  const { d3, plot, innerWidth } = f;
  const extent = Math.max(threshold * 2, ...c.rows.map((r) => Math.abs(r.change))) * 100;
  const x = d3.scaleLinear().domain([-extent, extent]).nice().range([0, innerWidth]);
  c.rows.forEach((r, i) => {
    const pct = r.change * 100;
    const y = i * rowHeight;
    plot.append('text').attr('x', -6).attr('y', y + 15).attr('text-anchor', 'end').attr('font-size', 11).text(deviceNames.get(r.device) ?? r.device);
    plot
      .append('rect')
      .attr('class', r.regression ? 'bar regression' : 'bar')
      .attr('x', Math.min(x(0), x(pct)))
      .attr('y', y + 3)
      .attr('width', Math.max(1, Math.abs(x(pct) - x(0))))
      .attr('height', rowHeight - 6)
      .attr('fill', r.regression ? '#D55E00' : pct <= 0 ? '#009E73' : '#E69F00')
      .append('title')
      .text(`${pct >= 0 ? '+' : ''}${pct.toFixed(1)}%`);
  });
  const bottom = c.rows.length * rowHeight;
  for (const t of [threshold * 100]) {
    plot.append('line').attr('x1', x(t)).attr('x2', x(t)).attr('y1', 0).attr('y2', bottom).attr('stroke', '#D55E00').attr('stroke-dasharray', '4 3');
  }
  plot.append('line').attr('x1', x(0)).attr('x2', x(0)).attr('y1', 0).attr('y2', bottom).attr('stroke', '#333');
  plot.append('g').attr('transform', `translate(0,${bottom})`).call(d3.axisBottom(x).ticks(8).tickFormat((v) => `${Number(v)}%`) as never);
  axisLabel(f, `estimated I/O time, ${c.other} vs ${c.base} (dashed: regression threshold)`, left + innerWidth / 2, height - 6);
  return svgMarkup(f);
}
