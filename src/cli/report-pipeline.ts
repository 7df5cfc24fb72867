import { compareImages, type ImageComparison } from '../sim/compare.js';
import type { DeviceModel } from '../sim/device.js';
import { evaluateScenarios, type Evaluation, type ScenarioInput } from '../sim/scenarios.js';
import { shapeReportModel, type ReportModel, type ReportViewOptions } from '../report/model.js';
import { renderReport } from '../report/render.js';

/*
 * The one-call path from inputs to page: src/sim evaluates and compares, src/report shapes and
 * draws. It lives above both (report imports only types from sim). d3-node (jsdom) comes with
 * render.ts: the `report` command imports this module only when it writes a report.
 */

/** Everything a report needs, from inputs to page. */
export interface ReportInput extends ScenarioInput, ReportViewOptions {
  devices?: readonly DeviceModel[];
  /** Device whose per-read detail feeds the charts. Default: the first device. */
  chartDevice?: string;
  /** A later image slower than the first by more than this fraction on some device is a regression. Default 0.05. */
  regressionThreshold?: number;
}

/** Evaluate the inputs (src/sim) and shape the page's view-model. */
export function buildReportModel(input: ReportInput): ReportModel {
  return evaluateReport(input).model;
}

function evaluateReport(input: ReportInput): { model: ReportModel; evaluation: Evaluation; comparison: ImageComparison } {
  const evaluation = evaluateScenarios({
    ...input,
    ...(input.chartDevice !== undefined ? { detailDevice: input.chartDevice } : {}),
  });
  const comparison = compareImages(evaluation, input.regressionThreshold);
  return { model: shapeReportModel(evaluation, comparison, input), evaluation, comparison };
}

/** The whole report as one self-contained HTML string (no network, no external assets, no script). */
export function buildReport(input: ReportInput): string {
  return renderReport(buildReportModel(input));
}

/** The page, the model (for exit codes on regressions) and the evaluation (for JSON output). */
export function buildReportWithModel(input: ReportInput): { html: string; model: ReportModel; evaluation: Evaluation; comparison: ImageComparison } {
  const evaluated = evaluateReport(input);
  return { html: renderReport(evaluated.model), ...evaluated };
}
