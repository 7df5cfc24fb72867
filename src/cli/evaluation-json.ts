import type { ImageComparison } from '../sim/compare.js';
import type { Evaluation } from '../sim/scenarios.js';

/** An evaluation as JSON (`simulate --json`, `report --json`): every layout's totals on every device. */
export function evaluationJson(e: Evaluation, c: ImageComparison): object {
  return {
    devices: e.devices.map((d) => d.id),
    readaheadBytes: e.kernel.readaheadBytes,
    scenarios: e.results.map((r) => ({
      image: r.scenario.image,
      layout: r.scenario.layout,
      missing: r.scenario.missing.length,
      devices: Object.fromEntries(r.runs.map((x) => [x.device, x.totals])),
    })),
    comparisons: c.comparisons,
    regressions: c.regressions.map((r) => r.message),
  };
}
