import type { Argv } from 'yargs';
import type { Candidate } from '../../sim/candidates.js';
import type { EvaluationInput } from '../../sim/scenarios.js';
import type { SimulationInputs } from '../../sim/inputs.js';
import { note } from '../output.js';
import { devicesOf, withDevices, type DevicesArgs } from './device.js';
import { squashfsPathOf, withSquashfsPath, type SquashfsPathArgs } from './image.js';
import { deviceCoordinatesOf, deviceCoordinatesOption } from './mapping.js';
import { repeatableRequired } from './repeatable.js';
import { withOutput, type OutputArgs } from './output.js';
import { withProfileFilters, type ProfileFilterArgs } from './profile-filters.js';
import { withTraces, type TracesArgs } from './traces.js';
import { noteTraceLosses } from '../trace-losses.js';

/** Options shared by `simulate` and `report`: what to evaluate, on which devices. */
export type SimulationArgs = TracesArgs &
  DevicesArgs &
  ProfileFilterArgs &
  SquashfsPathArgs &
  OutputArgs & {
    image: string[];
    'chart-device'?: string;
    'readahead-kb': number;
    seed: number;
    'trace-device': string[];
    root?: string;
  };

/** Repeatable options take one value each (nargs 1), so options given before the traces do not swallow them. */
export function withSimulation<T>(yargs: Argv<T>): Argv<T & SimulationArgs> {
  const base = withTraces(yargs, 'Boot traces: module log, qemu/blktrace trace, bootlog.list, map output').option(
    'image',
    repeatableRequired('ISO or squashfs; the first is the one the traces were taken on, later ones are compared with it (repeatable)'),
  );
  const costed = withProfileFilters(
    withDevices(base)
      .option('readahead-kb', { type: 'number', default: 128, describe: "The guest's readahead window (sr0 read_ahead_kb)" })
      .option('seed', { type: 'number', default: 1, describe: 'Seed of the random baseline layout' }),
  );
  return withOutput(
    withSquashfsPath(
      costed.option('trace-device', deviceCoordinatesOption('Coordinates of a traced device\'s offsets: ID=image, ID=squashfs or ID=skip (as map --device)')),
    ).option('root', {
      type: 'string',
      describe: 'The tree the first image was built from: also rebuild it with mksquashfs and our sort file, and cost that',
    }),
  ) as Argv<T & SimulationArgs>;
}

/** The images, traces and profile the arguments name (src/sim/inputs.ts), with a line on stderr. */
export async function loadInputs(args: SimulationArgs): Promise<SimulationInputs> {
  // the simulator is loaded when a command runs it, not at start-up
  const { loadSimulationInputs } = await import('../../sim/inputs.js');
  const inputs = await loadSimulationInputs({
    images: args.image,
    traces: args.traces,
    excludes: args.exclude,
    defaultExcludes: args['default-excludes'],
    stripPrefixes: args['strip-prefix'],
    merge: args.merge,
    devices: deviceCoordinatesOf(args['trace-device']),
    ...squashfsPathOf(args),
  });
  noteTraceLosses(inputs.traceNotes);
  const p = inputs.profile;
  note(
    `${p.events} events, ${p.entries.length} profiled paths, ${inputs.accesses.length} files in the image` +
      (inputs.physical.length > 0 ? `, ${inputs.physical.reduce((n, x) => n + x.reads.reads.count, 0)} block reads` : ''),
  );
  if (inputs.accesses.length === 0 && inputs.physical.length === 0) {
    note('no profiled path is a file of the image: check --strip-prefix');
  }
  return inputs;
}

/** With --root: the first image rebuilt by mksquashfs with our sort file (src/sim/rebuild.ts). */
export async function rebuiltLayouts(args: SimulationArgs, inputs: SimulationInputs): Promise<Candidate[]> {
  if (args.root === undefined) return [];
  const { rebuiltCandidate } = await import('../../sim/rebuild.js');
  const { candidate, written } = await rebuiltCandidate({ root: args.root, base: inputs.images[0]!.layout, entries: inputs.profile.entries });
  note(`rebuilt ${args.root} with mksquashfs and a sort file of ${written} files`);
  return [candidate];
}

/** What src/sim evaluates for the arguments: every scenario on every --device. */
export async function evaluationInputOf(args: SimulationArgs): Promise<{ inputs: SimulationInputs; evaluation: EvaluationInput }> {
  const inputs = await loadInputs(args);
  const evaluation: EvaluationInput = {
    images: inputs.images,
    accesses: inputs.accesses,
    touchedPaths: inputs.touchedPaths,
    physical: inputs.physical,
    devices: devicesOf(args),
    ...(args['chart-device'] !== undefined ? { detailDevice: args['chart-device'] } : {}),
    kernel: { readaheadBytes: Math.max(0, args['readahead-kb']) * 1024 },
    seed: args.seed,
    extraLayouts: await rebuiltLayouts(args, inputs),
  };
  return { inputs, evaluation };
}
