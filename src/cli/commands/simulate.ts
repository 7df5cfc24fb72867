import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { parseDeviceOverride } from '../../map/index.js';
import type { MergeMode } from '../../profile/merge.js';
import type { Candidate } from '../../sim/candidates.js';
import { compareImages, type ImageComparison } from '../../sim/compare.js';
import { DEVICES, deviceById } from '../../sim/devices.js';
import { evaluateScenarios, type Evaluation } from '../../sim/scenarios.js';
import { rebuildWithSortFile } from '../../sim/rebuild.js';
import { loadSimulationInputs, type SimulationInputs } from '../../sim/inputs.js';
import { emitData, note } from '../output.js';

/** Options shared by `simulate` and `report`. */
export interface SimulationArgs {
  traces: string[];
  image: string[];
  device: string[];
  'chart-device'?: string;
  'readahead-kb': number;
  seed: number;
  exclude: string[];
  'default-excludes': boolean;
  'strip-prefix': string[];
  merge: MergeMode;
  'trace-device': string[];
  squashfs?: string;
  root?: string;
  output?: string;
}

/** Repeatable options take one value each (nargs 1), so options given before the traces do not swallow them. */
export function simulationOptions<T>(yargs: Argv<T>): Argv<T & SimulationArgs> {
  return yargs
    .positional('traces', {
      describe: 'Boot traces: module log, qemu/blktrace trace, bootlog.list, map output',
      type: 'string',
      array: true,
      demandOption: true,
    })
    .option('image', {
      type: 'string',
      array: true,
      nargs: 1,
      demandOption: true,
      describe: 'ISO or squashfs; the first is the one the traces were taken on, later ones are compared with it (repeatable)',
    })
    .option('device', {
      type: 'string',
      array: true,
      nargs: 1,
      default: [],
      describe: `Device models to cost (repeatable; default all): ${DEVICES.map((d) => d.id).join(', ')}`,
    })
    .option('readahead-kb', { type: 'number', default: 128, describe: "The guest's readahead window (sr0 read_ahead_kb)" })
    .option('seed', { type: 'number', default: 1, describe: 'Seed of the random baseline layout' })
    .option('exclude', { type: 'string', array: true, nargs: 1, default: [], describe: 'Drop profiled paths matching this regex (repeatable)' })
    .option('default-excludes', { type: 'boolean', default: true, describe: 'Drop /dev, /proc, /sys, /live/distrib (the seed\'s filter)' })
    .option('strip-prefix', { type: 'string', array: true, nargs: 1, default: [], describe: 'Remove this leading directory from profiled paths (repeatable)' })
    .option('merge', { choices: ['concat', 'interleave'] as const, default: 'concat' as MergeMode, describe: 'How several traces merge' })
    .option('trace-device', {
      type: 'string',
      array: true,
      nargs: 1,
      default: [],
      describe: 'Coordinates of a traced device\'s offsets: ID=image, ID=squashfs or ID=skip (as map --device)',
    })
    .option('squashfs', { type: 'string', describe: 'Path on the ISO of the squashfs to use (default: detected)' })
    .option('root', {
      type: 'string',
      describe: 'The tree the first image was built from: also rebuild it with mksquashfs and our sort file, and cost that',
    })
    .option('output', { alias: 'o', type: 'string', describe: 'Write here (atomically) instead of stdout' }) as Argv<T & SimulationArgs>;
}

export async function loadInputs(args: SimulationArgs): Promise<SimulationInputs> {
  const inputs = await loadSimulationInputs({
    images: args.image,
    traces: args.traces,
    excludes: args.exclude,
    defaultExcludes: args['default-excludes'],
    stripPrefixes: args['strip-prefix'],
    merge: args.merge,
    devices: new Map(args['trace-device'].map(parseDeviceOverride)),
    ...(args.squashfs !== undefined ? { squashfsPath: args.squashfs } : {}),
  });
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

/** With --root: the first image rebuilt by mksquashfs with our sort file, in a temporary directory. */
export async function rebuiltLayouts(args: SimulationArgs, inputs: SimulationInputs): Promise<Candidate[]> {
  if (args.root === undefined) return [];
  const workDir = mkdtempSync(join(tmpdir(), 'bootprof-rebuild-'));
  try {
    const rebuilt = await rebuildWithSortFile({
      root: args.root,
      base: inputs.images[0]!.layout,
      entries: inputs.profile.entries,
      workDir,
    });
    note(`rebuilt ${args.root} with mksquashfs and a sort file of ${rebuilt.written} files`);
    return [
      {
        name: 'sorted (rebuilt)',
        description: 'our sort file, rebuilt with real mksquashfs from --root (same compressor and block size)',
        layout: rebuilt.layout,
      },
    ];
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** The evaluation (src/sim) the arguments ask for: every scenario on every --device. */
export function evaluationFor(args: SimulationArgs, inputs: SimulationInputs, extraLayouts: readonly Candidate[] = []): Evaluation {
  return evaluateScenarios({
    images: inputs.images,
    accesses: inputs.accesses,
    touchedPaths: inputs.touchedPaths,
    physical: inputs.physical,
    devices: args.device.length > 0 ? args.device.map(deviceById) : DEVICES,
    ...(args['chart-device'] !== undefined ? { detailDevice: args['chart-device'] } : {}),
    kernel: { readaheadBytes: Math.max(0, args['readahead-kb']) * 1024 },
    seed: args.seed,
    extraLayouts,
  });
}

interface SimulateArgs extends SimulationArgs {
  json: boolean;
}

export const simulateCommand: CommandModule<object, SimulateArgs> = {
  command: 'simulate <traces..>',
  describe: 'Estimate what a boot\'s reads cost on device models, for the image and candidate layouts',
  builder: (yargs: Argv) =>
    simulationOptions(yargs)
      .option('json', { type: 'boolean', default: false, describe: 'Print JSON instead of a table' })
      .example('$0 simulate --image live.iso events.tsv', 'every layout on every device')
      .example('$0 simulate --image old.iso --image new.iso --device cd24-clv profile.tsv', 'two releases on one drive') as Argv<SimulateArgs>,
  handler: async (args) => {
    const inputs = await loadInputs(args);
    const evaluation = evaluationFor(args, inputs, await rebuiltLayouts(args, inputs));
    const comparison = compareImages(evaluation);
    emitData(args.json ? formatJson(evaluation, comparison) : formatTable(evaluation), args.output);
    for (const r of comparison.regressions) note(`regression: ${r.message}`);
  },
};

function formatJson(e: Evaluation, c: ImageComparison): string {
  const json = {
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
  return `${JSON.stringify(json, null, 2)}\n`;
}

function formatTable(e: Evaluation): string {
  const header = ['device', 'layout', 'reads', 'MiB', 'seeks', 'far', 'seek MiB', 'seek s', 'rot s', 'xfer s', 'total s', 'bound s'];
  const rows: string[][] = [header];
  for (const d of e.devices) {
    for (const r of e.results) {
      const t = r.runs.find((x) => x.device === d.id)!.totals;
      rows.push([
        d.id,
        r.label.replace(/[\t\n]/g, ' '),
        String(t.reads),
        (t.bytes / 1048576).toFixed(1),
        String(t.seeks),
        String(t.farSeeks),
        (t.seekDistance / 1048576).toFixed(0),
        (t.seekMs / 1000).toFixed(2),
        (t.rotationMs / 1000).toFixed(2),
        (t.transferMs / 1000).toFixed(2),
        (t.totalMs / 1000).toFixed(2),
        (t.lowerBoundMs / 1000).toFixed(2),
      ]);
    }
  }
  const widths = header.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n') + '\n';
}
