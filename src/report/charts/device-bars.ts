import type { CostTotals } from '../../sim/drive.js';
import { formatMs, frame, svgMarkup } from './common.js';

const PARTS: { key: 'seekMs' | 'rotationMs' | 'transferMs'; label: string; colour: string }[] = [
  { key: 'seekMs', label: 'seek', colour: '#D55E00' },
  { key: 'rotationMs', label: 'rotation', colour: '#E69F00' },
  { key: 'transferMs', label: 'transfer', colour: '#0072B2' },
];

/** One device: a stacked bar (seek / rotation / transfer) per layout, with the lower bound marked. */
export function deviceBarsChart(device: string, rows: readonly { label: string; totals: CostTotals }[]): string {
  const width = 460;
  const barHeight = 18;
  const height = 50 + rows.length * (barHeight + 8);
  const left = 150;
  const f = frame('device-bars', `Estimated I/O time by layout: ${device}`, width, height, { top: 24, right: 16, bottom: 26, left });
  const { d3, plot, innerWidth } = f;
  const max = Math.max(1e-6, ...rows.map((r) => r.totals.totalMs));
  const x = d3.scaleLinear().domain([0, max]).nice().range([0, innerWidth]);
  rows.forEach((r, i) => {
    const g = plot.append('g').attr('transform', `translate(0,${i * (barHeight + 8)})`);
    g.append('text').attr('x', -6).attr('y', barHeight / 2 + 4).attr('text-anchor', 'end').attr('font-size', 11).text(r.label);
    let at = 0;
    for (const part of PARTS) {
      const v = r.totals[part.key];
      g.append('rect')
        .attr('class', 'bar')
        .attr('x', x(at))
        .attr('width', Math.max(0, x(at + v) - x(at)))
        .attr('height', barHeight)
        .attr('fill', part.colour)
        .append('title')
        .text(`${r.label}: ${part.label} ${formatMs(v)}`);
      at += v;
    }
    g.append('line')
      .attr('class', 'lower-bound')
      .attr('x1', x(r.totals.lowerBoundMs))
      .attr('x2', x(r.totals.lowerBoundMs))
      .attr('y1', -2)
      .attr('y2', barHeight + 2)
      .attr('stroke', '#000')
      .attr('stroke-width', 2)
      .append('title')
      .text(`lower bound ${formatMs(r.totals.lowerBoundMs)}`);
    g.append('text')
      .attr('x', Math.min(x(at) + 4, innerWidth - 40))
      .attr('y', barHeight / 2 + 4)
      .attr('font-size', 10)
      .text(formatMs(r.totals.totalMs));
  });
  const axisY = rows.length * (barHeight + 8);
  plot.append('g').attr('transform', `translate(0,${axisY})`).call(d3.axisBottom(x).ticks(5).tickFormat((v) => formatMs(Number(v))) as never);
  f.svg.append('text').attr('x', 8).attr('y', 15).attr('font-size', 12).attr('font-weight', 'bold').text(device);
  const key = f.svg.append('g').attr('transform', `translate(${left + innerWidth - 230},6)`).attr('font-size', 10);
  PARTS.forEach((p, i) => {
    key.append('rect').attr('x', i * 62).attr('width', 9).attr('height', 9).attr('fill', p.colour);
    key.append('text').attr('x', i * 62 + 12).attr('y', 8).text(p.label);
  });
  key.append('line').attr('x1', 190).attr('x2', 190).attr('y1', 0).attr('y2', 10).attr('stroke', '#000').attr('stroke-width', 2);
  key.append('text').attr('x', 194).attr('y', 8).text('bound');
  return svgMarkup(f);
}
