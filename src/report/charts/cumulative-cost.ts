import type { CostSeries } from '../model.js';
import { axisLabel, colour, frame, legend, svgMarkup } from './common.js';

/** Cumulative simulated seconds against the boot's progress (percent of its file accesses), one line per layout. */
export function cumulativeCostChart(series: readonly CostSeries[], device: string): string {
  const width = 760;
  const height = 320;
  const f = frame('cumulative-cost', `Cumulative I/O time over the boot (${device})`, width, height, {
    top: 16,
    right: 200,
    bottom: 40,
    left: 60,
  });
  const { d3, plot, innerWidth, innerHeight } = f;
  const max = Math.max(1e-6, ...series.map((s) => s.seconds.at(-1) ?? 0));
  const x = d3.scaleLinear().domain([0, 100]).range([0, innerWidth]);
  const y = d3.scaleLinear().domain([0, max]).nice().range([innerHeight, 0]);
  const line = d3.line<number>().x((_, i) => x(i)).y((v) => y(v));
  series.forEach((s, i) => {
    plot
      .append('path')
      .attr('class', 'cost-line')
      .attr('d', line(s.seconds) ?? '')
      .attr('fill', 'none')
      .attr('stroke', colour(i))
      .attr('stroke-width', 2)
      .append('title')
      .text(`${s.label}: ${(s.seconds.at(-1) ?? 0).toFixed(2)} s`);
  });
  plot.append('g').attr('transform', `translate(0,${innerHeight})`).call(d3.axisBottom(x).ticks(10) as never);
  plot.append('g').call(d3.axisLeft(y).ticks(6) as never);
  axisLabel(f, 'boot progress (% of file accesses)', 60 + innerWidth / 2, height - 6);
  axisLabel(f, 'cumulative I/O time (s)', 14, 16 + innerHeight / 2, true);
  legend(f, series.map((s) => s.label), width - 190, 20);
  return svgMarkup(f);
}
