/**
 * d3-node ships no typings. Only what src/report uses: build an SVG with d3 on a jsdom document
 * and serialise it. d3 itself is typed by @types/d3.
 */
declare module 'd3-node' {
  import type * as d3 from 'd3';

  export interface D3NodeOptions {
    /** CSS selector inside `container` to attach the SVG to. */
    selector?: string;
    /** HTML the jsdom document starts with. */
    container?: string;
    /** CSS put into the SVG's <defs><style> (as CDATA). */
    styles?: string;
    d3Module?: typeof d3;
  }

  export class D3Node {
    constructor(options?: D3NodeOptions);
    readonly d3: typeof d3;
    createSVG(
      width?: number,
      height?: number,
      attrs?: Record<string, string | number>,
    ): d3.Selection<d3.BaseType, unknown, null, undefined>;
    /** outerHTML of the first <svg>, or '' when none was created. */
    svgString(): string;
    html(): string;
    chartHTML(): string;
  }
}
