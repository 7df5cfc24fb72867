import { InputError } from '../errors.js';
import type { DeviceModel } from './device.js';
import type { ScenarioResult } from './evaluate.js';
import { findResult, type Evaluation } from './scenarios.js';

/** A later image slower than the base by more than this fraction on some device is a regression. */
export const DEFAULT_REGRESSION_THRESHOLD = 0.05;

export interface ComparisonRow {
  device: string;
  baseMs: number;
  otherMs: number;
  /** (other - base) / base; 0 when the base costs nothing. */
  change: number;
  /** change > threshold */
  regression: boolean;
}

export interface Comparison {
  base: string;
  other: string;
  rows: ComparisonRow[];
}

export interface Regression {
  base: string;
  other: string;
  /** Device id. */
  device: string;
  change: number;
  /** One line, e.g. "new.iso is 7.5% slower than old.iso on CD-ROM 52x (CAV)". */
  message: string;
}

export interface ImageComparison {
  threshold: number;
  /** One per later image that has the compared layout, in image order. */
  comparisons: Comparison[];
  /** Every row past the threshold, in comparison then device order. */
  regressions: Regression[];
}

/** (other - base) / base, or 0 when the base costs nothing. */
export function relativeChange(baseMs: number, otherMs: number): number {
  return baseMs > 0 ? (otherMs - baseMs) / baseMs : 0;
}

function checkThreshold(threshold: number): void {
  if (Number.isNaN(threshold) || threshold < 0) {
    throw new InputError(`regression threshold must be 0 or more, not ${threshold}`);
  }
}

/**
 * Total time of `other` against `base`, device by device, for the devices both were costed on
 * (in `devices` order). A row is a regression when other is slower by more than `threshold`.
 */
export function compareResults(
  base: ScenarioResult,
  other: ScenarioResult,
  devices: readonly DeviceModel[],
  threshold: number = DEFAULT_REGRESSION_THRESHOLD,
): ComparisonRow[] {
  checkThreshold(threshold);
  const rows: ComparisonRow[] = [];
  for (const d of devices) {
    const a = base.runs.find((r) => r.device === d.id);
    const b = other.runs.find((r) => r.device === d.id);
    if (a === undefined || b === undefined) continue;
    const change = relativeChange(a.totals.totalMs, b.totals.totalMs);
    rows.push({ device: d.id, baseMs: a.totals.totalMs, otherMs: b.totals.totalMs, change, regression: change > threshold });
  }
  return rows;
}

/**
 * Each later image against the first, on every device of the evaluation: the same profile
 * replayed on each image's `layout` (default "as is": the images as built).
 */
export function compareImages(
  evaluation: Evaluation,
  threshold: number = DEFAULT_REGRESSION_THRESHOLD,
  layout = 'as is',
): ImageComparison {
  checkThreshold(threshold);
  const comparisons: Comparison[] = [];
  const regressions: Regression[] = [];
  const base = evaluation.images[0];
  const baseResult = base && findResult(evaluation, base.name, layout);
  for (const other of evaluation.images.slice(1)) {
    const otherResult = findResult(evaluation, other.name, layout);
    if (!base || !baseResult || !otherResult) continue;
    const rows = compareResults(baseResult, otherResult, evaluation.devices, threshold);
    for (const row of rows) {
      if (!row.regression) continue;
      const name = evaluation.devices.find((d) => d.id === row.device)?.name ?? row.device;
      regressions.push({
        base: base.name,
        other: other.name,
        device: row.device,
        change: row.change,
        message: `${other.name} is ${(row.change * 100).toFixed(1)}% slower than ${base.name} on ${name}`,
      });
    }
    comparisons.push({ base: base.name, other: other.name, rows });
  }
  return { threshold, comparisons, regressions };
}
