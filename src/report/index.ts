import { compareImages } from '../sim/compare.js';
import { evaluateScenarios } from '../sim/scenarios.js';
import { shapeReportModel, type ReportInput, type ReportModel } from './model.js';
import { renderReport } from './render.js';

export type { Comparison, ComparisonRow, ReportInput, ReportModel, ReportViewOptions } from './model.js';
export { shapeReportModel } from './model.js';
export { renderReport } from './render.js';

/*
 * report/model.ts and render.ts only shape and draw an evaluation they are given (the CLI runs
 * src/sim's evaluateScenarios and compareImages itself). The functions below are the one-call
 * path from inputs to page, for library users and tests: they run that same sim API first.
 */

/** Evaluate the inputs (src/sim) and shape the page's view-model. */
export function buildReportModel(input: ReportInput): ReportModel {
  const evaluation = evaluateScenarios({
    ...input,
    ...(input.chartDevice !== undefined ? { detailDevice: input.chartDevice } : {}),
  });
  const comparison = compareImages(evaluation, input.regressionThreshold);
  return shapeReportModel(evaluation, comparison, input);
}

/** The whole report as one self-contained HTML string (no network, no external assets, no script). */
export function buildReport(input: ReportInput): string {
  return renderReport(buildReportModel(input));
}

/** The page and the model (for exit codes on regressions, and JSON output). */
export function buildReportWithModel(input: ReportInput): { html: string; model: ReportModel } {
  const model = buildReportModel(input);
  return { html: renderReport(model), model };
}
