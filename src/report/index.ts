export type { Comparison, ComparisonRow, ReportModel, ReportViewOptions } from './model.js';
export { shapeReportModel } from './model.js';
export { renderReport } from './render.js';

/*
 * report/ only shapes and draws an evaluation it is given: it imports nothing but types from
 * src/sim. The one-call path from inputs to page (evaluate with src/sim, compare, shape, render)
 * is src/cli/report-pipeline.ts.
 */
