import type { Layout } from '../image/layout.js';
import type { DeviceModel } from './device.js';
import { simulateDevice, type DeviceRun } from './drive.js';
import { indexLayout } from '../image/layout-index.js';
import { throughPageCache, type KernelOptions } from './page-cache.js';
import type { PhysicalReads } from './physical.js';
import type { Reads } from './reads.js';
import { replayOnLayout, type FileAccess } from './replay.js';

/** One read stream to cost: a layout of an image under one boot. */
export interface Scenario {
  /** Image label ("release 1.2", or the file name). */
  image: string;
  /** Layout label ("as is", "sorted", ...). */
  layout: string;
  description: string;
  /** What the drive is asked for, in order. */
  reads: Reads;
  /** The layout the reads refer to (for file names and the metadata band in charts). */
  layoutModel: Layout;
  /** Profiled paths this layout does not have. */
  missing: string[];
}

export interface ScenarioResult {
  scenario: Scenario;
  runs: DeviceRun[];
}

/** A file-level profile replayed onto a layout, through the guest's page cache. */
export function profileScenario(
  image: string,
  name: string,
  description: string,
  layout: Layout,
  accesses: readonly FileAccess[],
  kernel: KernelOptions,
): Scenario {
  const replay = replayOnLayout(indexLayout(layout), accesses);
  const reads = throughPageCache(replay.reads, layout.size, kernel);
  return { image, layout: name, description, reads, layoutModel: layout, missing: replay.missing };
}

/** A physical trace as recorded (squashfs-level reads still go through the page cache). */
export function physicalScenario(
  image: string,
  name: string,
  description: string,
  layout: Layout,
  physical: PhysicalReads,
  kernel: KernelOptions,
): Scenario {
  const reads = physical.aboveCache ? throughPageCache(physical.reads, layout.size, kernel) : physical.reads;
  return { image, layout: name, description, reads, layoutModel: layout, missing: [] };
}

/** Cost every scenario on every device; per-read detail only on `detailDevice` (charts need one). */
export function runScenarios(
  scenarios: readonly Scenario[],
  devices: readonly DeviceModel[],
  detailDevice?: string,
): ScenarioResult[] {
  return scenarios.map((scenario) => ({
    scenario,
    runs: devices.map((d) => simulateDevice(d, scenario.reads, { detail: d.id === detailDevice })),
  }));
}
