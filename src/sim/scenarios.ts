import { InputError } from '../errors.js';
import type { Layout } from '../image/layout.js';
import { candidateLayouts, type Candidate } from './candidates.js';
import type { DeviceModel } from './device.js';
import { DEVICES, deviceById } from './devices.js';
import { physicalScenario, profileScenario, runScenarios, type Scenario, type ScenarioResult } from './evaluate.js';
import { DEFAULT_READAHEAD_BYTES, type KernelOptions } from './page-cache.js';
import { seekExponent } from './physics.js';
import type { PhysicalReads } from './physical.js';
import type { FileAccess } from './replay.js';

/**
 * The one evaluation core that `simulate`, `report` and the layout optimizer share: which read
 * streams to cost (scenarios: images × candidate layouts × recorded traces), and their cost on
 * each device model. Image-to-image comparison and regressions are in compare.ts.
 */

export interface NamedImage {
  /** Image label ("release 1.2", or the file name). */
  name: string;
  layout: Layout;
}

export interface NamedPhysicalReads {
  /** The trace's name (its file name). */
  name: string;
  reads: PhysicalReads;
}

/** What to cost: the scenarios, before any device. */
export interface ScenarioInput {
  /** The first image is the base: candidate layouts, extra layouts and physical traces refer to it. */
  images: readonly NamedImage[];
  /** The boot's file accesses in first-access order (regular files). */
  accesses: readonly FileAccess[];
  /** Every path the boot touched, directories included (what the seed's sort file listed). Default: the accessed paths. */
  touchedPaths?: readonly string[];
  /** Block traces recorded while booting the first image. */
  physical?: readonly NamedPhysicalReads[];
  /** The guest's page cache and readahead. Default: 128 KiB readahead. */
  kernel?: KernelOptions;
  /** Seed of the random baseline layout. Default 1. */
  seed?: number;
  /** More layouts of the first image (e.g. rebuilt with mksquashfs), costed after the predicted ones. */
  extraLayouts?: readonly Candidate[];
}

/** What to cost, and on which devices. */
export interface EvaluationInput extends ScenarioInput {
  /** Default: every device model (DEVICES). */
  devices?: readonly DeviceModel[];
  /** Device whose per-read detail is kept (charts, blame). Default: the first device. */
  detailDevice?: string;
}

/** A scenario's result with the label it is shown under. */
export interface EvaluatedScenario extends ScenarioResult {
  /** "layout", or "image: layout" when several images are evaluated. */
  label: string;
}

export interface Evaluation {
  images: readonly NamedImage[];
  /** How many file accesses the profile has. */
  accesses: number;
  /** Devices costed, in order; each result's `runs` follow this order. Includes `detailDevice`. */
  devices: readonly DeviceModel[];
  /** The device whose runs carry per-read detail. */
  detailDevice: DeviceModel;
  /** Each device's seek-curve exponent (physics.ts seekExponent), by device id: the report prints the formula. */
  seekExponents: Readonly<Record<string, number>>;
  kernel: KernelOptions;
  seed: number;
  /**
   * In order: the first image's recorded traces, its candidate layouts (as is, sorted, seed recipe,
   * layout end, random), its extra layouts, then for each later image "as is" and "sorted".
   */
  results: EvaluatedScenario[];
}

export const DEFAULT_SEED = 1;

/**
 * The devices to cost and the one whose per-read detail is kept. The detail device is looked up
 * among `devices` first, then among every known model (deviceById: an unknown id is an InputError);
 * when it is not among `devices` it is costed first.
 */
export function resolveDevices(
  devices: readonly DeviceModel[] = DEVICES,
  detailDevice?: string,
): { devices: readonly DeviceModel[]; detailDevice: DeviceModel } {
  if (devices.length === 0) throw new InputError('an evaluation needs at least one device');
  const detail = detailDevice === undefined ? devices[0]! : (devices.find((d) => d.id === detailDevice) ?? deviceById(detailDevice));
  return { devices: devices.some((d) => d.id === detail.id) ? devices : [detail, ...devices], detailDevice: detail };
}

/** The label a scenario is shown under: its layout, prefixed by its image when several are evaluated. */
export function scenarioLabel(scenario: Scenario, multiImage: boolean): string {
  return multiImage ? `${scenario.image}: ${scenario.layout}` : scenario.layout;
}

/**
 * Every scenario to cost, in Evaluation.results order: the recorded traces of the first image,
 * its candidate layouts and extra layouts replayed from the profile, then each later image as is
 * and sorted by the profile.
 */
export function buildScenarios(input: ScenarioInput): Scenario[] {
  if (input.images.length === 0) throw new InputError('an evaluation needs at least one image');
  const kernel = input.kernel ?? { readaheadBytes: DEFAULT_READAHEAD_BYTES };
  const seed = input.seed ?? DEFAULT_SEED;
  const base = input.images[0]!;
  const profiledFiles = input.accesses.map((a) => a.path);
  const scenarios: Scenario[] = [];
  for (const p of input.physical ?? []) {
    scenarios.push(
      physicalScenario(base.name, `measured (${p.name})`, 'the recorded block reads of this boot, as the drive saw them', base.layout, p.reads, kernel),
    );
  }
  const candidates = candidateLayouts(base.layout, { profiledFiles, touchedPaths: input.touchedPaths ?? profiledFiles, seed });
  for (const c of [...candidates, ...(input.extraLayouts ?? [])]) {
    scenarios.push(profileScenario(base.name, c.name, c.description, c.layout, input.accesses, kernel));
  }
  for (const other of input.images.slice(1)) {
    const [asIs, sorted] = candidateLayouts(other.layout, { profiledFiles, touchedPaths: profiledFiles, seed });
    for (const c of [asIs!, sorted!]) scenarios.push(profileScenario(other.name, c.name, c.description, c.layout, input.accesses, kernel));
  }
  return scenarios;
}

/** Build the scenarios and cost each on every device (per-read detail on the detail device only). */
export function evaluateScenarios(input: EvaluationInput): Evaluation {
  if (input.images.length === 0) throw new InputError('an evaluation needs at least one image');
  const { devices, detailDevice } = resolveDevices(input.devices, input.detailDevice);
  const scenarios = buildScenarios(input);
  const multi = input.images.length > 1;
  const results = runScenarios(scenarios, devices, detailDevice.id).map((r) => ({ ...r, label: scenarioLabel(r.scenario, multi) }));
  return {
    images: input.images,
    accesses: input.accesses.length,
    devices,
    detailDevice,
    seekExponents: Object.fromEntries(devices.map((d) => [d.id, seekExponent(d)])),
    kernel: input.kernel ?? { readaheadBytes: DEFAULT_READAHEAD_BYTES },
    seed: input.seed ?? DEFAULT_SEED,
    results,
  };
}

/** The result of `image`'s layout `layout` (e.g. "as is"), if it was evaluated. */
export function findResult(evaluation: Evaluation, image: string, layout: string): EvaluatedScenario | undefined {
  return evaluation.results.find((r) => r.scenario.image === image && r.scenario.layout === layout);
}
