import { axisLabel, colour, frame, legend, svgMarkup } from './common.js';

/** Seeks by distance bucket, grouped bars per layout. */
export function seekHistogramChart(
  series: readonly { label: string; counts: readonly number[] }[],
  edges: readonly number[],
  device: string,
): string {
  const width = 760;
  const height = 320;
  const f = frame('seek-histogram', `Seek distances (${device})`, width, height, { top: 16, right: 200, bottom: 44, left: 60 });
  const { d3, plot, innerWidth, innerHeight } = f;
  const names = edges.map((e, i) => (i + 1 < edges.length ? `${short(e)}–${short(edges[i + 1]!)}` : `≥ ${short(e)}`));
  names[0] = `< ${short(edges[1] ?? 4096)}`;
  const x0 = d3.scaleBand<string>().domain(names).range([0, innerWidth]).paddingInner(0.2);
  const x1 = d3
    .scaleBand<number>()
    .domain(series.map((_, i) => i))
    .range([0, x0.bandwidth()])
    .padding(0.05);
  const max = Math.max(1, ...series.flatMap((s) => s.counts));
  const y = d3.scaleLinear().domain([0, max]).nice().range([innerHeight, 0]);
  names.forEach((name, b) => {
    const g = plot.append('g').attr('transform', `translate(${x0(name) ?? 0},0)`);
    series.forEach((s, i) => {
      const v = s.counts[b] ?? 0;
      g.append('rect')
        .attr('class', 'bar')
        .attr('x', x1(i) ?? 0)
        .attr('y', y(v))
        .attr('width', Math.max(1, x1.bandwidth()))
        .attr('height', Math.max(0, innerHeight - y(v)))
        .attr('fill', colour(i))
        .append('title')
        .text(`${s.label}, ${name}: ${v} seeks`);
    });
  });
  plot.append('g').attr('transform', `translate(0,${innerHeight})`).call(d3.axisBottom(x0) as never);
  plot.append('g').call(d3.axisLeft(y).ticks(6) as never);
  axisLabel(f, 'seek distance', 60 + innerWidth / 2, height - 6);
  axisLabel(f, 'seeks', 14, 16 + innerHeight / 2, true);
  legend(f, series.map((s) => s.label), width - 190, 20);
  return svgMarkup(f);
}

/** Bucket edges are powers of two: 4K, 64K, 1M, 16M, 1G. */
function short(bytes: number): string {
  if (bytes >= 1 << 30) return `${bytes / (1 << 30)}G`;
  if (bytes >= 1 << 20) return `${bytes / (1 << 20)}M`;
  if (bytes >= 1024) return `${bytes / 1024}K`;
  return `${bytes}`;
}
