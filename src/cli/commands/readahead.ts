import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../errors.js';
import { addProbeWindows, PROBE_WINDOW_SET_NAMES, PROBE_WINDOW_SETS, renderRangeLines, type ProbeWindowSet } from '../../emit/probe-windows.js';
import type { ReadaheadPlan } from '../../emit/readahead-plan.js';
import type { CollectedReads } from '../../emit/readahead-ranges.js';
import type { Layout } from '../../image/layout.js';
import { countDrops } from '../../profile/describe-drops.js';
import { emitData, note, UsageError } from '../output.js';
import { squashfsPathOf, withImage, type ImageArgs } from '../options/image.js';
import { withBlockEvents, type BlockEventsArgs } from '../options/mapping.js';
import { emitJson, withJson, type JsonArgs } from '../options/json.js';
import { withOutput, type OutputArgs } from '../options/output.js';
import { excludesOf, withProfileFilters, type ProfileFilterArgs } from '../options/profile-filters.js';
import { withTraces, type TracesArgs } from '../options/traces.js';
import { noteTraceLosses } from '../trace-losses.js';

type ReadaheadArgs = TracesArgs &
  ImageArgs &
  ProfileFilterArgs &
  BlockEventsArgs &
  JsonArgs &
  OutputArgs & {
    ranges: boolean;
    'whole-files': boolean;
    gap?: number;
    'gap-kb'?: number;
    absolute: boolean;
    'probe-windows': ProbeWindowSet;
    'on-medium': boolean;
    null: boolean;
  };

/** 64 KiB: reading it costs a fraction of a CD seek (80-150 ms is 0.5-3 MB of transfer), and flash reads it fast. */
export const DEFAULT_GAP = 64 * 1024;

export const readaheadCommand: CommandModule<object, ReadaheadArgs> = {
  command: 'readahead <traces..>',
  describe: 'Profiled files in image order (readahead list), or the byte ranges of the loopback to read (--ranges)',
  builder: (yargs: Argv) =>
    withJson(withOutput(withBlockEvents(withProfileFilters(withImage(
      withTraces(yargs, 'Profiles: module log, bootlog.list, map output, qemu or blktrace block traces'),
      { manifest: true },
    )))), 'Also print the summary (files, ranges, bytes, metadata source) as JSON on stdout; needs -o FILE', true)
      .option('ranges', {
        type: 'boolean',
        default: false,
        describe:
          'Print "offset length" byte ranges of the loopback file: the compressed blocks holding what the boot read, and the metadata it read (the tables whole when the trace does not show it)',
      })
      .option('whole-files', {
        type: 'boolean',
        default: false,
        describe: 'With --ranges: every block of every profiled file, and the inode, directory, fragment and id tables whole',
      })
      .option('gap-kb', {
        type: 'number',
        describe: `With --ranges: join ranges at most this many KiB apart (default ${DEFAULT_GAP / 1024}: read the gap instead of seeking)`,
      })
      .option('gap', { type: 'number', describe: 'With --ranges: the same in bytes' })
      .option('absolute', { type: 'boolean', default: false, describe: 'With --ranges: offsets in the image file (the ISO), not in the loopback file' })
      .option('probe-windows', {
        choices: PROBE_WINDOW_SET_NAMES,
        default: 'udev' as ProbeWindowSet,
        describe:
          'With --ranges: also read what the kernel and udev\'s blkid probe on the loop device and on the medium ("offset length medium" lines, negative offsets from the medium\'s end), so those probes find it cached; none: only the boot\'s reads',
      })
      .option('on-medium', {
        type: 'boolean',
        default: false,
        describe:
          'With --ranges and a bare squashfs that will be put on a CD or ISO (a live-build binary hook runs before the ISO exists): add the medium\'s probe windows as "medium" lines too',
      })
      .option('null', { alias: '0', type: 'boolean', default: false, describe: 'End each path with NUL instead of newline (for xargs -0)' })
      .check((a) => {
        if (a.gap !== undefined && (!Number.isSafeInteger(a.gap) || a.gap < 0)) throw new UsageError('--gap must be a whole number of bytes >= 0');
        const kb = a['gap-kb'];
        if (kb !== undefined && (!Number.isSafeInteger(kb) || kb < 0 || kb > 1024 * 1024)) throw new UsageError('--gap-kb must be a whole number of KiB, 0 to 1048576');
        if (a.gap !== undefined && kb !== undefined) throw new UsageError('give --gap-kb or --gap, not both');
        if (a['whole-files'] && !a.ranges) throw new UsageError('--whole-files goes with --ranges');
        return true;
      })
      .example('$0 readahead --image live.iso events.tsv > readahead.list', 'files in loopback order')
      .example('$0 readahead --ranges --image live.iso events.tsv > readahead.ranges', 'ranges for a dd loop at boot') as Argv<ReadaheadArgs>,
  handler: async (args) => {
    // the image readers and the planner are loaded here, when readahead runs, not at start-up
    const { openImageOrManifest } = await import('../../image/open-any.js');
    const { readTraces } = await import('../../trace/read.js');
    const { planReadahead } = await import('../../emit/readahead-plan.js');
    const image = openImageOrManifest(args.image, squashfsPathOf(args));
    try {
      const source = image.image?.source;
      const traces = await readTraces(args.traces);
      noteTraceLosses(traces);
      const plan = planReadahead(traces, {
        layout: image.layout,
        tree: image.tree,
        excludes: excludesOf(args),
        stripPrefixes: args['strip-prefix'],
        merge: args.merge,
        blockEvents: args['block-events'],
        ranges: args.ranges,
        ...(source !== undefined ? { readAt: (offset: number, length: number) => source.read(offset, length) } : {}),
      });
      const { profile, selection, placed } = plan;
      requireFiles(args, plan);
      if (plan.collected !== undefined) {
        await emitRanges(args, image.layout, plan.collected, plan);
      } else {
        const end = args.null ? '\0' : '\n';
        const bad = args.null ? undefined : placed.find((p) => p.path.includes('\n'));
        if (bad !== undefined) throw new InputError(`${JSON.stringify(bad.path)} has a newline in its name: use --null`);
        emitData(placed.map((p) => p.path + end).join(''), args.output);
        note(`${placed.length} files in image order`);
        if (args.json) emitJson({ command: 'readahead', output: args.output, kind: 'files', files: placed.length, ...dropSummary(plan) });
      }
      const dropped = [...profile.dropped, ...selection.dropped];
      if (dropped.length > 0) note(`dropped ${countDrops(dropped).map((c) => c.text).join(', ')}`);
      if (plan.empty > 0) note(`${plan.empty} empty files left out (no data to read)`);
      if (profile.unmappedBlockEvents > 0) note(`${profile.unmappedBlockEvents} block events ignored (not mapped to files)`);
    } finally {
      image.close();
    }
  },
};

function dropSummary({ profile, selection, empty }: ReadaheadPlan): object {
  const dropped = [...profile.dropped, ...selection.dropped];
  return {
    dropped: Object.fromEntries(countDrops(dropped).map((c) => [c.reason, c.count])),
    emptyFiles: empty,
    unmappedBlockEvents: profile.unmappedBlockEvents,
  };
}

/** A profile none of whose files is in the image is the wrong profile or the wrong image: say so, write nothing. */
function requireFiles(args: ReadaheadArgs, { profile, selection }: ReadaheadPlan): void {
  if (selection.files.length > 0) return;
  const dropped = [...profile.dropped, ...selection.dropped];
  const missing = dropped.filter((d) => d.reason === 'missing').map((d) => d.path);
  const examples = missing.length === 0 ? '' : `; not in the image: ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}`;
  const counts = dropped.length === 0 ? 'no file accesses' : countDrops(dropped).map((c) => c.text).join(', ');
  throw new InputError(`${args.traces.join(', ')}: no profiled path is a regular file of ${args.image} (${counts}${examples})`);
}

async function emitRanges(args: ReadaheadArgs, layout: Layout, collected: CollectedReads, plan: ReadaheadPlan): Promise<void> {
  const { readaheadPlanRanges } = await import('../../emit/readahead-plan.js');
  const { WHOLE_METADATA } = await import('../../emit/readahead-ranges.js');
  const gap = args['gap-kb'] !== undefined ? args['gap-kb'] * 1024 : (args.gap ?? DEFAULT_GAP);
  const base = args.absolute ? 0 : (layout.squashfsOffset ?? 0);
  const { whole, wholeBytes, boot } = readaheadPlanRanges(plan, layout, collected, { gap, base });
  const profiled = plan.placed;
  const probes = addProbeWindows(args['whole-files'] ? whole : boot.ranges, layout, PROBE_WINDOW_SETS[args['probe-windows']], {
    base,
    gap,
    onMedium: args['on-medium'],
  });
  emitData(renderRangeLines(probes.lines), args.output);

  const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : '-');
  if (args['whole-files']) {
    note(
      `${profiled.length} files, ${whole.length} ranges, ${wholeBytes} bytes to read (gap ${gap}): whole files and tables; ` +
        `the blocks the boot read would be ${boot.bytes} bytes in ${boot.ranges.length} ranges (${ratio(wholeBytes, boot.bytes)}x less)`,
    );
  } else {
    note(
      `${boot.filesWithData} files read, ${collected.openedOnly.length} only opened; ${boot.ranges.length} ranges, ${boot.bytes} bytes to read ` +
        `(gap ${gap}): ${boot.dataBytes} bytes of blocks the boot read, ${boot.metadataBytes} of metadata; ` +
        `whole files would be ${wholeBytes} bytes in ${whole.length} ranges (${ratio(wholeBytes, boot.bytes)}x)`,
    );
  }
  for (const t of collected.traces) {
    const c = t.check;
    if (c.evidence === 'other') {
      note(
        `${t.source}: its squashfs block reads were recorded on another image (${c.aligned} of ${c.checked} data reads start on a block of this one): ` +
          'left out, its file events used',
      );
    }
    if (!t.ranged && !args['whole-files']) note(`${t.source}: names files but no byte ranges: its files are read whole`);
    if (t.unresolvedInodeEvents > 0) note(`${t.source}: ${t.unresolvedInodeEvents} events name an inode this image does not have (left out)`);
  }
  if (args['probe-windows'] !== 'none') {
    const medium = probes.lines.filter((l) => l.medium).length;
    note(
      `probe windows (${args['probe-windows']}): ${probes.addedBytes} bytes more, ` +
        (medium > 0 ? `${medium} of the ${probes.lines.length} lines on the medium's device ("medium")` : 'on the loopback only'),
    );
  }
  if (args.json) {
    const chosen = args['whole-files'] ? whole : boot.ranges;
    emitJson({
      command: 'readahead',
      output: args.output,
      kind: args['whole-files'] ? 'whole-files' : 'ranges',
      gap,
      offsets: args.absolute ? 'image' : 'loopback',
      ranges: chosen.length,
      lines: probes.lines.length,
      mediumLines: probes.lines.filter((l) => l.medium).length,
      probeWindows: args['probe-windows'],
      probeWindowBytes: probes.addedBytes,
      bytes: args['whole-files'] ? wholeBytes : boot.bytes,
      dataBytes: boot.dataBytes,
      metadataBytes: boot.metadataBytes,
      metadata: collected.metadata === 'tables' ? 'tables' : 'traced',
      filesRead: boot.filesWithData,
      filesOpenedOnly: collected.openedOnly.length,
      wholeFiles: { ranges: whole.length, bytes: wholeBytes },
      traces: collected.traces.map((t) => ({ source: t.source, squashfsReads: t.check.evidence, ranged: t.ranged, unresolvedInodeEvents: t.unresolvedInodeEvents })),
      ...dropSummary(plan),
    });
  }
  if (args['whole-files']) return;
  if (collected.metadata !== 'tables') {
    const tables = layout.extents.filter((e) => WHOLE_METADATA.includes(e.kind)).reduce((n, e) => n + e.length, 0);
    note(`metadata: the ${collected.metadataReads} squashfs metadata reads the traces recorded on this image (the tables whole: ${tables} bytes)`);
    return;
  }
  const why: string[] = [];
  if (!args['block-events']) why.push('--no-block-events');
  else {
    for (const t of collected.traces) {
      const c = t.check;
      if (c.evidence === 'none') why.push(`${t.source} has no squashfs block reads (sqread)`);
      else if (c.evidence === 'other') why.push(`${t.source}'s were recorded on another image`);
      else if (c.evidence === 'unconfirmed') why.push(`${t.source}'s squashfs block reads include no data read to check them against this image`);
    }
  }
  note(`metadata: the inode, directory, fragment and id tables whole: ${why.join('; ')}`);
}
