import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../errors.js';
import type { SortFileResult, SortFormat } from '../../emit/sort-file.js';
import type { Placement } from '../../emit/priorities.js';
import { countDrops, describeDrop } from '../../profile/describe-drops.js';
import type { DroppedPath } from '../../profile/types.js';
import type { SortPlan } from '../../optimize/sort-plan.js';
import { DEFAULT_READAHEAD_BYTES } from '../../sim/page-cache.js';
import { emitData, note, progress, progressDone } from '../output.js';
import { deviceOf, withDevice, type DeviceArgs } from '../options/device.js';
import { openImageOrRoot, withImageOrRoot, type ImageOrRootArgs } from '../options/image.js';
import { withBlockEvents, type BlockEventsArgs } from '../options/mapping.js';
import { emitJson, withJson, type JsonArgs } from '../options/json.js';
import { withOutput, type OutputArgs } from '../options/output.js';
import { excludesOf, withProfileFilters, type ProfileFilterArgs } from '../options/profile-filters.js';
import { withTraces, type TracesArgs } from '../options/traces.js';
import { noteTraceLosses } from '../trace-losses.js';

type SortArgs = TracesArgs &
  ImageOrRootArgs &
  ProfileFilterArgs &
  DeviceArgs &
  BlockEventsArgs &
  JsonArgs &
  OutputArgs & {
    layout: Placement | 'auto';
    order: 'optimized' | 'first-access';
    actions?: string;
    'block-size'?: number;
    format: SortFormat | 'gensquashfs' | 'draklive';
    verbose: boolean;
  };

/** How many dropped paths of each reason to name when not --verbose. */
const SHOWN_PER_REASON = 5;

export const sortCommand: CommandModule<object, SortArgs> = {
  command: 'sort <traces..>',
  describe: 'Turn boot profiles into a mksquashfs sort file (stdout)',
  builder: (yargs: Argv) =>
    withJson(withOutput(withBlockEvents(withDevice(withProfileFilters(withImageOrRoot(
      withTraces(yargs, 'Profiles in access order: bootlog.list, module log, qemu/blktrace trace, map output'),
      { required: false },
    ))))), 'Also print the summary (counts, dropped paths by reason, the plan and its prediction) as JSON on stdout; needs -o FILE', true)
      .option('layout', {
        choices: ['auto', 'beginning', 'end'] as const,
        default: 'auto' as const,
        describe: 'Place profiled files at the beginning of the image, at its end (outer edge), or where the cost model says (auto; beginning with --order first-access)',
      })
      .option('order', {
        choices: ['optimized', 'first-access'] as const,
        default: 'optimized' as const,
        describe: 'optimized: the layout optimizer decides order, placement and fragments with the cost model (needs --root or --image); first-access: the profile order, as the seed did',
      })
      .option('actions', {
        type: 'string',
        describe: 'Also write a mksquashfs action file here (-action-file): no-fragments for the boot files the plan takes out of the fragment blocks',
      })
      .option('block-size', {
        alias: 'b',
        type: 'number',
        describe: 'Block size the image will be built with (mksquashfs -b; default: the image\'s, else 131072): `bootprof tune` prints "-b N" for both',
      })
      .option('xbcj', {
        type: 'string',
        describe: 'mksquashfs -Xbcj FILTER, as `bootprof tune` may print it beside -b: accepted (spelt -Xbcj) so that one $OPTS serves both; it does not change the order',
      })
      .option('format', {
        choices: ['mksquashfs', 'gensquashfs', 'genisoimage', 'draklive'] as const,
        default: 'mksquashfs' as const,
        describe: 'mksquashfs -sort, gensquashfs --sort-file (with [dont_fragment] for the plan\'s boot files), genisoimage -sort, or the seed\'s legacy "priority /path"',
      })
      .option('verbose', { alias: 'v', type: 'boolean', default: false, describe: 'List every dropped path' })
      .example('$0 sort --root chroot bootlog.list > config/distrib.sort', 'draklive: sort the loopback by the boot profile')
      .example('$0 sort --image live.iso --strip-prefix /mnt/live events.tsv -o distrib.sort', 'check against the built image') as Argv<SortArgs>,
  handler: async (args) => {
    // the pipeline is loaded here, when sort runs, not at start-up; the optimizer only when it plans
    const { readTraces } = await import('../../trace/read.js');
    const { tree, layout, opened } = await openImageOrRoot(args);
    try {
      const traces = await readTraces(args.traces);
      const excludes = excludesOf(args);
      // skipped rows and gaps in a capture: the sort file is made from the rest, but say so
      noteTraceLosses(traces);

      if (args.format === 'draklive') {
        const { drakliveSortFile } = await import('../../emit/draklive.js');
        const options = { excludes: args.exclude, seedExcludes: args['default-excludes'], stripPrefixes: args['strip-prefix'] };
        emitData(drakliveSortFile(traces, { ...options, ...(tree !== undefined ? { tree } : {}) }), args.output);
        return;
      }

      const device = deviceOf(args); // an unknown device fails before any work
      if (args['block-size'] !== undefined && !(Number.isInteger(args['block-size']) && args['block-size'] >= 4096 && args['block-size'] <= 1 << 20 && (args['block-size'] & (args['block-size'] - 1)) === 0)) {
        throw new InputError(`--block-size ${args['block-size']}: mksquashfs takes a power of two from 4096 to 1048576`);
      }
      const { selectProfile } = await import('../../optimize/inputs.js');
      const { profile, selection, fileEventsOf } = selectProfile(traces, {
        excludes,
        stripPrefixes: args['strip-prefix'],
        merge: args.merge,
        blockEvents: args['block-events'] ? 'map' : 'ignore',
        ...(layout !== undefined ? { layout } : {}),
        ...(tree !== undefined ? { tree } : {}),
      });
      let files = selection.files;
      let placement: Placement = args.layout === 'auto' ? 'beginning' : args.layout;
      let sortPlan: SortPlan | undefined;
      if (args.order === 'optimized') {
        if (tree === undefined) {
          note('no --root or --image: the optimizer needs file sizes; writing the first-access order');
        } else if (selection.files.length > 0) {
          const { planSortFile } = await import('../../optimize/sort-plan.js');
          sortPlan = planSortFile({
            traces,
            fileEventsOf,
            selection,
            tree,
            ...(layout !== undefined ? { image: layout } : { root: args.root! }),
            excludes,
            stripPrefixes: args['strip-prefix'],
            device,
            kernel: { readaheadBytes: DEFAULT_READAHEAD_BYTES },
            ...(args['block-size'] !== undefined ? { blockSize: args['block-size'] } : {}),
            ...(args.layout !== 'auto' ? { placement: args.layout } : {}),
            onStep: (n) => progress(`optimizing: ${n} candidate layouts costed`),
          });
          progressDone();
          files = sortPlan.files;
          placement = sortPlan.plan.placement;
        }
      }
      // each writer is loaded when its format is asked for
      const result: SortFileResult =
        args.format === 'gensquashfs'
          ? (await import('../../emit/gensquashfs-sort.js')).renderGensquashfsSort(
              files.map((f) => ({ rel: f.rel, path: f.entry.path })),
              { placement, dontFragment: new Set(sortPlan?.unfragment.map((f) => f.rel) ?? []) },
            )
          : (await import('../../emit/sort-file.js')).renderSortFile(files, {
              format: args.format,
              placement,
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
        const why = !args['block-events']
          ? ' (--no-block-events)'
          : sortPlan !== undefined
            ? ' (give --image to map them; the optimizer still uses page faults logged by inode, named by their open)'
            : ' (give --image to map them)';
        note(`${profile.unmappedBlockEvents} block events not mapped to files${why}`);
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
      if (sortPlan !== undefined) describePlan(sortPlan, device.name);
      let actionsWritten: number | undefined;
      if (args.actions !== undefined) {
        const { renderActionFile } = await import('../../emit/action-file.js');
        const actions = renderActionFile(sortPlan?.unfragment.map((f) => ({ rel: f.rel, path: f.entry.path })) ?? [], { action: 'no-fragments' });
        for (const d of actions.dropped) note(`  not in the action file: ${describeDrop(d)}`);
        if (sortPlan === undefined) note('--actions: no plan (give --root or --image and --order optimized); the action file is empty');
        emitData(actions.text, args.actions);
        actionsWritten = actions.written;
        note(`${actions.written} files in the action file ${args.actions} (mksquashfs -action-file)`);
      }
      emitData(result.text, args.output);
      if (args.json) {
        emitJson({
          command: 'sort',
          output: args.output,
          format: args.format,
          events: profile.events,
          distinctPaths: profile.entries.length,
          repeatedAccesses: profile.repeats,
          written: result.written,
          dropped: Object.fromEntries(countDrops(dropped).map((c) => [c.reason, c.count])),
          unmappedBlockEvents: profile.unmappedBlockEvents,
          placement,
          ...(args.actions !== undefined ? { actions: { file: args.actions, written: actionsWritten } } : {}),
          ...(sortPlan !== undefined ? { plan: planSummary(sortPlan, device.name) } : {}),
        });
      }
    } finally {
      opened?.close(); // the image's file: an in-process caller (the fuzzer) would keep it open
    }
  },
};

function describePlan(sortPlan: SortPlan, deviceName: string): void {
  const { plan, universe } = sortPlan;
  for (const d of plan.decisions) note(`plan: ${d}`);
  if (sortPlan.twins > 0) {
    note(`plan: ${sortPlan.twins} identical copies of profiled files listed after the profile (mksquashfs stores one copy: this keeps it the profiled one)`);
  }
  const mb = (n: number): string => (n / 1048576).toFixed(2);
  const pct = (a: number, b: number): string => (b > 0 ? `${(((a - b) / b) * 100).toFixed(1)}%` : 'n/a');
  note(
    `predicted on ${deviceName} (${plan.evaluations} layouts costed, ${universe.source === 'root' ? 'sizes from --root, compression sampled' : 'compressed sizes from the image'}): ` +
      `${(plan.cost.ms / 1000).toFixed(2)} s vs ${(plan.baseline.ms / 1000).toFixed(2)} s for the first-access order (${pct(plan.cost.ms, plan.baseline.ms)}), ` +
      `far seeks ${plan.cost.farSeeks.toFixed(1)} vs ${plan.baseline.farSeeks.toFixed(1)}, MiB read ${mb(plan.cost.bytes)} vs ${mb(plan.baseline.bytes)}`,
  );
  const delta = plan.cost.squashfsBytes - plan.baseline.squashfsBytes;
  note(`predicted image size change: ${delta >= 0 ? '+' : ''}${delta.toFixed(0)} bytes (${pct(plan.cost.squashfsBytes, plan.baseline.squashfsBytes)})`);
}

function planSummary(sortPlan: SortPlan, deviceName: string): object {
  const { plan } = sortPlan;
  const cost = (c: typeof plan.cost) => ({ ms: c.ms, farSeeks: c.farSeeks, bytes: c.bytes, squashfsBytes: c.squashfsBytes });
  return {
    device: deviceName,
    decisions: plan.decisions,
    layoutsCosted: plan.evaluations,
    noFragments: sortPlan.unfragment.length,
    predicted: cost(plan.cost),
    firstAccessOrder: cost(plan.baseline),
  };
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
