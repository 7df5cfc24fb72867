import { buildReportModel, type ReportInput, type ReportModel } from './model.js';
import { renderReport } from './render.js';

export type { ReportInput, ReportModel } from './model.js';
export { buildReportModel } from './model.js';
export { renderReport } from './render.js';

/** The whole report as one self-contained HTML string (no network, no external assets, no script). */
export function buildReport(input: ReportInput): string {
  return renderReport(buildReportModel(input));
}

/** The page and the model (for exit codes on regressions, and JSON output). */
export function buildReportWithModel(input: ReportInput): { html: string; model: ReportModel } {
  const model = buildReportModel(input);
  return { html: renderReport(model), model };
}
