import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { InputError, describeSystemError } from '../../errors.js';
import type { Layout } from '../../image/layout.js';
import { openImageOrManifest } from '../../image/open-any.js';
import { blockEventsToFileEvents } from '../../map/index.js';
import { perlLines, renderDraklive } from '../../emit/draklive.js';
import { renderSortFile, type SortFormat } from '../../emit/sort-file.js';
import type { Placement } from '../../emit/priorities.js';
import { countDrops, describeDrop } from '../../profile/describe-drops.js';
import { compileExcludes, DEFAULT_EXCLUDES, stripPrefix } from '../../profile/filters.js';
import { HostTree } from '../../profile/host-tree.js';
import { profileFromTraces } from '../../profile/load.js';
import type { MergeMode } from '../../profile/merge.js';
import { resolveRegularFile } from '../../profile/resolve.js';
import { selectRegularFiles } from '../../profile/select.js';
import type { TreeView } from '../../profile/tree.js';
import type { DroppedPath } from '../../profile/types.js';
import { readTraces } from '../../trace/read.js';
import type { Trace } from '../../trace/types.js';
import { emitData, note } from '../output.js';

interface SortArgs {
  traces: string[];
  image?: string;
  root?: string;
  exclude: string[];
  'default-excludes': boolean;
  'strip-prefix': string[];
  layout: Placement;
  format: SortFormat | 'draklive';
  merge: MergeMode;
  output?: string;
  verbose: boolean;
  'block-events': boolean;
}

/** How many dropped paths of each reason to name when not --verbose. */
const SHOWN_PER_REASON = 5;

export const sortCommand: CommandModule<object, SortArgs> = {
  command: 'sort <traces..>',
  describe: 'Turn boot profiles into a mksquashfs sort file (stdout)',
  builder: (yargs: Argv) =>
    yargs
      .positional('traces', {
        describe: 'Profiles in access order: bootlog.list, module log, qemu/blktrace trace, map output',
        type: 'string',
        array: true,
        demandOption: true,
      })
      .option('image', { type: 'string', describe: 'Keep only regular files of this squashfs or ISO (or its manifest from inspect --json)' })
      .option('root', { type: 'string', describe: 'Keep only regular files of this tree (the mksquashfs source)' })
      .conflicts('image', 'root')
      .option('exclude', { type: 'string', array: true, nargs: 1, default: [], describe: 'Drop paths matching this regex (repeatable)' })
      .option('default-excludes', {
        type: 'boolean',
        default: true,
        describe: `Drop ${DEFAULT_EXCLUDES.join(' ')} (--no-default-excludes keeps them)`,
      })
      .option('strip-prefix', {
        type: 'string',
        array: true,
        nargs: 1,
        default: [],
        describe: 'Remove this leading directory from profiled paths, e.g. /mnt/live (repeatable)',
      })
      .option('layout', {
        choices: ['beginning', 'end'] as const,
        default: 'beginning' as Placement,
        describe: 'Place profiled files at the beginning of the image, or at its end (outer edge)',
      })
      .option('format', {
        choices: ['mksquashfs', 'genisoimage', 'draklive'] as const,
        default: 'mksquashfs' as const,
        describe: 'mksquashfs -sort, genisoimage -sort, or the seed\'s legacy "priority /path"',
      })
      .option('merge', {
        choices: ['concat', 'interleave'] as const,
        default: 'concat' as MergeMode,
        describe: 'Several profiles: concat (first profile\'s order, then new files of the next) or interleave (by relative position)',
      })
      .option('block-events', {
        type: 'boolean',
        default: true,
        describe: 'Map block reads through --image (--no-block-events: use only the events that name files)',
      })
      .option('output', { alias: 'o', type: 'string', describe: 'Write here (atomically) instead of stdout' })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'List every dropped path' })
      .example('$0 sort --root chroot bootlog.list > config/distrib.sort', 'draklive: sort the loopback by the boot profile')
      .example('$0 sort --image live.iso --strip-prefix /mnt/live events.tsv -o distrib.sort', 'check against the built image') as Argv<SortArgs>,
  handler: async (args) => {
    const { tree, layout } = openTree(args);
    const traces = await readTraces(args.traces);
    const excludes = [...(args['default-excludes'] ? DEFAULT_EXCLUDES : []), ...args.exclude];

    if (args.format === 'draklive') {
      runDraklive(args, traces, tree);
      return;
    }

    const profile = profileFromTraces(traces, {
      excludes,
      stripPrefixes: args['strip-prefix'],
      merge: args.merge,
      blockEvents: args['block-events'] ? 'map' : 'ignore',
      ...(layout !== undefined ? { layout, mapBlocks: (trace: Trace, l: Layout) => blockEventsToFileEvents(trace, l) } : {}),
    });
    const selection = selectRegularFiles(profile.entries, tree);
    const result = renderSortFile(selection.files, {
      format: args.format,
      placement: args.layout,
      ...(tree !== undefined ? { topLevel: tree.topLevel() } : {}),
      ...(args.root !== undefined ? { hostPrefix: args.root } : {}),
    });

    const dropped = [...profile.dropped, ...selection.dropped, ...result.dropped];
    note(
      `${profile.events} events, ${profile.entries.length} distinct paths` +
        (profile.repeats > 0 ? ` (${profile.repeats} repeated accesses folded)` : '') +
        `, ${result.written} files written` +
        (dropped.length > 0 ? `; dropped ${countDrops(dropped).map((c) => c.text).join(', ')}` : ''),
    );
    if (profile.unmappedBlockEvents > 0) {
      note(`${profile.unmappedBlockEvents} block events not mapped to files${args['block-events'] ? ' (give --image to map them)' : ' (--no-block-events)'}`);
    }
    if (tree === undefined) note('no --root or --image: directories and missing files cannot be told apart from files');
    reportDrops(dropped, args.verbose);
    const plan = result.plan;
    if (plan !== undefined) {
      if (plan.floorPriority !== undefined) {
        note(`profile longer than half the priority range: the root's other top-level entries get ${plan.floorPriority}`);
      }
      if (plan.misplaced > 0) note(`${plan.misplaced} files past the 32767th get priority <= 0 and land among unlisted files; give --root to avoid it`);
      if (plan.tied > 0) note(`${plan.tied} files share the last priority: mksquashfs writes them in its own walk order, not profile order`);
    }
    if (result.written === 0) throw new InputError('no file of the profile could be written to the sort file');
    emitData(result.text, args.output);
  },
};

function openTree(args: SortArgs): { tree?: TreeView; layout?: Layout } {
  if (args.image !== undefined) {
    const view = openImageOrManifest(args.image);
    return { tree: view.tree, layout: view.layout };
  }
  return args.root === undefined ? {} : { tree: new HostTree(args.root) };
}

function reportDrops(dropped: readonly DroppedPath[], verbose: boolean): void {
  const shown = new Map<string, number>();
  for (const d of dropped) {
    const n = shown.get(d.reason) ?? 0;
    shown.set(d.reason, n + 1);
    if (verbose || n < SHOWN_PER_REASON) note(`  dropped ${describeDrop(d)}`);
  }
  if (!verbose && [...shown.values()].some((n) => n > SHOWN_PER_REASON)) note('  (--verbose lists every dropped path)');
}

/** The seed's one-liner, on the raw lines of bootlog.list inputs; options apply on top if given. */
function runDraklive(args: SortArgs, traces: readonly Trace[], tree: TreeView | undefined): void {
  const records: string[] = [];
  for (const trace of traces) {
    if (trace.format === 'bootlog') {
      let text: string;
      try {
        text = readFileSync(trace.source, 'utf8');
      } catch (err) {
        throw new InputError(describeSystemError(trace.source, err), { cause: err });
      }
      records.push(...perlLines(text));
    } else {
      for (const e of trace.events) if (e.kind !== 'block' && e.path !== '') records.push(`${e.path}\n`);
    }
  }
  const extra = compileExcludes(args.exclude);
  const prefixes = args['strip-prefix'];
  const transformed = prefixes.length === 0 ? records : records.map((r) => {
    const body = r.endsWith('\n') ? r.slice(0, -1) : r;
    return stripPrefix(body, prefixes) + r.slice(body.length);
  });
  const keep = (record: string): boolean => {
    const path = record.replace(/\r?\n$/, '');
    if (extra.some((re) => re.test(path))) return false;
    return tree === undefined || resolveRegularFile(tree, path).ok;
  };
  const text = renderDraklive(transformed, keep, args['default-excludes']);
  emitData(text, args.output);
}
