import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../errors.js';
import type { Layout } from '../../image/layout.js';
import { openImageOrManifest } from '../../image/open-any.js';
import { selectProfile } from '../../optimize/inputs.js';
import { optimizerInput } from '../../optimize/sort-plan.js';
import { tuneBuild, type TuneRow } from '../../optimize/tune.js';
import { DEFAULT_EXCLUDES } from '../../profile/filters.js';
import { HostTree } from '../../profile/host-tree.js';
import type { MergeMode } from '../../profile/merge.js';
import type { TreeView } from '../../profile/tree.js';
import { DEVICE_ALIASES, deviceById } from '../../sim/devices.js';
import { DEFAULT_READAHEAD_BYTES } from '../../sim/page-cache.js';
import { readTraces } from '../../trace/read.js';
import { emitData, note, progress, progressDone } from '../output.js';

interface TuneArgs {
  traces: string[];
  image?: string;
  root?: string;
  device: string;
  exclude: string[];
  'default-excludes': boolean;
  'strip-prefix': string[];
  merge: MergeMode;
  json: boolean;
  output?: string;
}

export const tuneCommand: CommandModule<object, TuneArgs> = {
  command: 'tune <traces..>',
  describe: 'Predict boot I/O time and image size for mksquashfs settings; print the winner\'s extra options (stdout, one line)',
  builder: (yargs: Argv) =>
    yargs
      .positional('traces', { describe: 'Boot profiles (one per boot), any capture format', type: 'string', array: true, demandOption: true })
      .option('image', { type: 'string', describe: 'The image the profiles were taken on (ISO, squashfs or manifest): real compressed sizes' })
      .option('root', { type: 'string', describe: 'The mksquashfs source tree (sizes only; compression assumed)' })
      .conflicts('image', 'root')
      .check((a) => {
        if (a.image === undefined && a.root === undefined) throw new Error('give --image or --root');
        return true;
      })
      .option('device', { type: 'string', default: 'cd24x', describe: `Target drive: ${Object.keys(DEVICE_ALIASES).join(', ')} (or a model id)` })
      .option('exclude', { type: 'string', array: true, nargs: 1, default: [], describe: 'Drop paths matching this regex (repeatable)' })
      .option('default-excludes', { type: 'boolean', default: true, describe: `Drop ${DEFAULT_EXCLUDES.join(' ')}` })
      .option('strip-prefix', { type: 'string', array: true, nargs: 1, default: [], describe: 'Remove this leading directory from profiled paths (repeatable)' })
      .option('merge', { choices: ['concat', 'interleave'] as const, default: 'concat' as MergeMode, describe: 'How several profiles merge' })
      .option('json', { type: 'boolean', default: false, describe: 'Print every candidate as JSON on stdout instead of the options line' })
      .option('output', { alias: 'o', type: 'string', describe: 'Write here (atomically) instead of stdout' })
      .example('$0 tune --root chroot events.tsv', 'prints e.g. "-b 262144": add it to the mksquashfs command line') as Argv<TuneArgs>,
  handler: async (args) => {
    const device = deviceById(args.device);
    let tree: TreeView;
    let layout: Layout | undefined;
    if (args.image !== undefined) {
      const view = openImageOrManifest(args.image);
      tree = view.tree;
      layout = view.layout;
    } else {
      tree = new HostTree(args.root!);
    }
    const traces = await readTraces(args.traces);
    const excludes = [...(args['default-excludes'] ? DEFAULT_EXCLUDES : []), ...args.exclude];
    const { selection, fileEventsOf } = selectProfile(traces, {
      excludes,
      stripPrefixes: args['strip-prefix'],
      merge: args.merge,
      blockEvents: 'map',
      ...(layout !== undefined ? { layout } : {}),
      tree,
    });
    if (selection.files.length === 0) throw new InputError(`no profiled path is a regular file of ${args.image ?? args.root}`);
    const { universe, boots } = optimizerInput({
      traces,
      fileEventsOf,
      selection,
      tree,
      ...(layout !== undefined ? { image: layout } : { root: args.root! }),
      excludes,
      stripPrefixes: args['strip-prefix'],
    });
    const result = tuneBuild(universe, boots, {
      device,
      kernel: { readaheadBytes: DEFAULT_READAHEAD_BYTES },
      onStep: (n) => progress(`tune: ${n} layouts costed`),
    });
    progressDone();
    note(`predicted on ${device.name}, ${universe.files.length} profiled files, ${boots.length} boot(s)${universe.source === 'root' ? ' (sizes from --root, compression assumed)' : ''}:`);
    for (const line of formatTable(result.rows, result.winner)) note(line);
    if (args.json) {
      emitData(`${JSON.stringify({ device: device.id, winner: rowJson(result.winner), candidates: result.rows.map(rowJson) }, null, 2)}\n`, args.output);
    } else {
      emitData(`${result.winner.options.join(' ')}\n`, args.output);
    }
  },
};

function rowJson(r: TuneRow): object {
  return {
    blockSize: r.blockSize,
    placement: r.placement,
    unfragmented: r.unfragmented,
    options: r.options,
    predicted: {
      seconds: r.cost.ms / 1000,
      bytesRead: r.cost.bytes,
      seeks: r.cost.seeks,
      farSeeks: r.cost.farSeeks,
      squashfsBytes: r.cost.squashfsBytes,
    },
  };
}

function formatTable(rows: readonly TuneRow[], winner: TuneRow): string[] {
  const header = ['block', 'placement', 'boot files', 'est. s', 'MiB read', 'far seeks', 'squashfs MiB', ''];
  const body = rows.map((r) => [
    String(r.blockSize / 1024) + 'K',
    r.placement,
    r.unfragmented ? 'no-fragments' : 'in fragments',
    (r.cost.ms / 1000).toFixed(2),
    (r.cost.bytes / 1048576).toFixed(2),
    r.cost.farSeeks.toFixed(1),
    (r.cost.squashfsBytes / 1048576).toFixed(2),
    r === winner ? '<- winner' : r.chosen ? 'plan' : '',
  ]);
  const all = [header, ...body];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  return all.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd());
}
