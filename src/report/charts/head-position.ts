import type { HeadSeries } from '../model.js';
import { axisLabel, colour, formatBytes, frame, svgMarkup } from './common.js';

export interface HeadPositionOptions {
  /** Index of the series, for its colour. */
  index: number;
  /** Shared time axis (ms) so that small multiples compare. */
  maxMs: number;
  imageSize: number;
  device: string;
  width?: number;
  height?: number;
}

/** Where the head is over simulated time: one vertical stroke per time bucket spanning the offsets read in it. */
export function headPositionChart(series: HeadSeries, o: HeadPositionOptions): string {
  const width = o.width ?? 460;
  const height = o.height ?? 220;
  const f = frame('head-position', `Head position over time: ${series.label} (${o.device})`, width, height, {
    top: 22,
    right: 12,
    bottom: 36,
    left: 64,
  });
  const { d3, plot, innerWidth, innerHeight } = f;
  const x = d3.scaleLinear().domain([0, o.maxMs / 1000]).range([0, innerWidth]);
  const y = d3.scaleLinear().domain([0, Math.max(1, o.imageSize)]).range([innerHeight, 0]);
  for (const band of series.bands) {
    plot
      .append('rect')
      .attr('class', 'metadata-band')
      .attr('x', 0)
      .attr('width', innerWidth)
      .attr('y', y(band.end))
      .attr('height', Math.max(1, y(band.start) - y(band.end)))
      .attr('fill', '#f2d7d5');
  }
  const n = series.lo.length;
  // a faint line through the reads in order shows the jumps; bold strokes show where reading happened
  let route = '';
  for (let b = 0; b < n; b++) {
    if (Number.isNaN(series.first[b]!)) continue;
    const px = (((b + 0.5) / n) * innerWidth).toFixed(1);
    route += `${route === '' ? 'M' : 'L'}${px},${y(series.first[b]!).toFixed(1)}L${px},${y(series.last[b]!).toFixed(1)}`;
  }
  plot.append('path').attr('class', 'route').attr('d', route).attr('stroke', colour(o.index)).attr('stroke-opacity', 0.25).attr('stroke-width', 0.8).attr('fill', 'none');
  let d = '';
  for (let b = 0; b < n; b++) {
    const lo = series.lo[b]!;
    const hi = series.hi[b]!;
    if (Number.isNaN(lo)) continue;
    const px = ((b + 0.5) / n) * innerWidth;
    const top = y(hi);
    const bottom = Math.max(y(lo), top + 1.5);
    d += `M${px.toFixed(1)},${bottom.toFixed(1)}V${top.toFixed(1)}`;
  }
  plot.append('path').attr('class', 'head').attr('d', d).attr('stroke', colour(o.index)).attr('stroke-width', 2.5).attr('fill', 'none');
  plot.append('g').attr('transform', `translate(0,${innerHeight})`).call(d3.axisBottom(x).ticks(6) as never);
  plot.append('g').call(d3.axisLeft(y).ticks(5).tickFormat((v) => formatBytes(Number(v))) as never);
  f.svg.append('text').attr('x', 64).attr('y', 14).attr('font-size', 12).attr('font-weight', 'bold').text(series.label);
  axisLabel(f, 'simulated I/O time (s)', 64 + innerWidth / 2, height - 4);
  return svgMarkup(f);
}
