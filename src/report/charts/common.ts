/// <reference path="../../types/d3-node.d.ts" />
import { D3Node } from 'd3-node';

/** Colours by series position: colour-blind safe (Okabe-Ito), then greys. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#000000', '#999999', '#8C6D1F', '#666666'];

export function colour(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

export interface ChartFrame {
  node: D3Node;
  d3: D3Node['d3'];
  /** The plot area, translated by the margins. */
  plot: ReturnType<D3Node['createSVG']>;
  svg: ReturnType<D3Node['createSVG']>;
  innerWidth: number;
  innerHeight: number;
}

export interface Margins {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

/** A fresh SVG with a plot group inside margins; `kind` names the chart for tests and CSS. */
export function frame(kind: string, title: string, width: number, height: number, margin: Margins): ChartFrame {
  const node = new D3Node();
  const svg = node.createSVG(width, height, {
    class: 'chart',
    'data-chart': kind,
    role: 'img',
    viewBox: `0 0 ${width} ${height}`,
  });
  svg.append('title').text(title);
  const plot = svg.append('g').attr('transform', `translate(${margin.left},${margin.top})`);
  return {
    node,
    d3: node.d3,
    plot,
    svg,
    innerWidth: width - margin.left - margin.right,
    innerHeight: height - margin.top - margin.bottom,
  };
}

/**
 * The chart's markup. jsdom escapes text and attribute quotes but leaves < and > inside attribute
 * values (legal there); we escape them too, so no angle bracket from a name survives anywhere.
 */
export function svgMarkup(f: ChartFrame): string {
  return f.node.svgString().replace(/="[^"]*"/g, (attr) => attr.replace(/</g, '&lt;').replace(/>/g, '&gt;'));
}

/** An axis label. */
export function axisLabel(f: ChartFrame, text: string, x: number, y: number, rotate = false): void {
  const t = f.svg
    .append('text')
    .attr('x', x)
    .attr('y', y)
    .attr('text-anchor', 'middle')
    .attr('font-size', 11)
    .attr('fill', '#333')
    .text(text);
  if (rotate) t.attr('transform', `rotate(-90 ${x} ${y})`);
}

/** A legend row at the top right. */
export function legend(f: ChartFrame, labels: readonly string[], x: number, y: number): void {
  const g = f.svg.append('g').attr('transform', `translate(${x},${y})`).attr('font-size', 11);
  labels.forEach((label, i) => {
    const row = g.append('g').attr('transform', `translate(0,${i * 15})`);
    row.append('rect').attr('width', 10).attr('height', 10).attr('fill', colour(i));
    row.append('text').attr('x', 14).attr('y', 9).attr('fill', '#333').text(label);
  });
}

export function formatBytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(n >= 10 * (1 << 30) ? 0 : 1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(n >= 10 * (1 << 20) ? 0 : 1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(n >= 10240 ? 0 : 1)} KiB`;
  return `${Math.round(n)} B`;
}

export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10000 ? 1 : 2)} s`;
  if (ms >= 1) return `${ms.toFixed(1)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}
