import type { Argv, CommandModule } from 'yargs';
import { InputError } from '../../errors.js';
import { extentsByFile, placeFiles, readaheadRanges, renderRanges } from '../../emit/readahead.js';
import { openImageOrManifest } from '../../image/open-any.js';
import { blockEventsToFileEvents } from '../../map/index.js';
import { countDrops } from '../../profile/describe-drops.js';
import { DEFAULT_EXCLUDES } from '../../profile/filters.js';
import { loadProfile } from '../../profile/load.js';
import type { MergeMode } from '../../profile/merge.js';
import { selectRegularFiles } from '../../profile/select.js';
import { emitData, note } from '../output.js';

interface ReadaheadArgs {
  'block-events': boolean;
  traces: string[];
  image: string;
  squashfs?: string;
  ranges: boolean;
  gap: number;
  absolute: boolean;
  null: boolean;
  exclude: string[];
  'default-excludes': boolean;
  'strip-prefix': string[];
  merge: MergeMode;
  output?: string;
}

/** 128 KiB: below a CD seek's cost in transfer time, and the default squashfs block size. */
export const DEFAULT_GAP = 128 * 1024;

export const readaheadCommand: CommandModule<object, ReadaheadArgs> = {
  command: 'readahead <traces..>',
  describe: 'Profiled files in image order (readahead list), or the byte ranges of the loopback to read (--ranges)',
  builder: (yargs: Argv) =>
    yargs
      .positional('traces', { describe: 'Profiles: module log, bootlog.list, map output, qemu or blktrace block traces', type: 'string', array: true, demandOption: true })
      .option('image', { type: 'string', demandOption: true, describe: 'The squashfs, or the ISO holding it' })
      .option('squashfs', { type: 'string', describe: 'Path of the squashfs on the ISO (default: detected)' })
      .option('ranges', {
        type: 'boolean',
        default: false,
        describe: 'Print "offset length" byte ranges of the loopback file: the profile\'s data and fragment blocks plus the inode, directory, fragment and id tables',
      })
      .option('gap', {
        type: 'number',
        default: DEFAULT_GAP,
        describe: 'With --ranges: join ranges less than this many bytes apart (read the gap instead of seeking)',
      })
      .option('absolute', { type: 'boolean', default: false, describe: 'With --ranges: offsets in the image file (the ISO), not in the loopback file' })
      .option('null', { alias: '0', type: 'boolean', default: false, describe: 'End each path with NUL instead of newline (for xargs -0)' })
      .option('exclude', { type: 'string', array: true, default: [], describe: 'Drop paths matching this regex (repeatable)' })
      .option('default-excludes', { type: 'boolean', default: true, describe: `Drop ${DEFAULT_EXCLUDES.join(' ')} (--no-default-excludes keeps them)` })
      .option('strip-prefix', { type: 'string', array: true, default: [], describe: 'Remove this leading directory from profiled paths (repeatable)' })
      .option('merge', { choices: ['concat', 'interleave'] as const, default: 'concat' as MergeMode, describe: 'How to merge several profiles' })
      .option('block-events', {
        type: 'boolean',
        default: true,
        describe: 'Map block reads through --image (--no-block-events: use only the events that name files)',
      })
      .option('output', { alias: 'o', type: 'string', describe: 'Write here (atomically) instead of stdout' })
      .check((a) => {
        if (!Number.isSafeInteger(a.gap) || (a.gap as number) < 0) throw new Error('--gap must be a whole number of bytes >= 0');
        return true;
      })
      .example('$0 readahead --image live.iso events.tsv > readahead.list', 'files in loopback order')
      .example('$0 readahead --ranges --image live.iso events.tsv > readahead.ranges', 'ranges for a dd loop at boot') as Argv<ReadaheadArgs>,
  handler: async (args) => {
    const image = openImageOrManifest(args.image, args.squashfs !== undefined ? { squashfsPath: args.squashfs } : {});
    try {
      const layout = image.layout;
      const excludes = [...(args['default-excludes'] ? DEFAULT_EXCLUDES : []), ...args.exclude];
      const profile = await loadProfile(args.traces, {
        excludes,
        stripPrefixes: args['strip-prefix'],
        merge: args.merge,
        blockEvents: args['block-events'] ? 'map' : 'ignore',
        layout,
        // Block traces (qemu, blktrace) and inode-only events become file accesses through the layout.
        mapBlocks: (trace, l) => blockEventsToFileEvents(trace, l),
      });
      const selection = selectRegularFiles(profile.entries, image.tree);
      const indexByPath = new Map<string, number>();
      layout.files.forEach((f, i) => {
        if (f.layer === 'squashfs' && !indexByPath.has(f.path)) indexByPath.set(f.path, i);
      });
      const wanted: { path: string; file: number }[] = [];
      for (const s of selection.files) {
        const path = `/${s.rel}`;
        const file = indexByPath.get(path);
        if (file !== undefined) wanted.push({ path, file });
      }
      const byFile = extentsByFile(layout);
      const placed = placeFiles(layout, wanted, byFile);
      if (args.ranges) {
        const base = args.absolute ? 0 : (layout.squashfsOffset ?? 0);
        const ranges = readaheadRanges(layout, placed.map((p) => p.file), { gap: args.gap, base }, byFile);
        emitData(renderRanges(ranges), args.output);
        const bytes = ranges.reduce((s, r) => s + r.length, 0);
        note(`${placed.length} files, ${ranges.length} ranges, ${bytes} bytes to read (gap ${args.gap})`);
      } else {
        const end = args.null ? '\0' : '\n';
        const bad = args.null ? undefined : placed.find((p) => p.path.includes('\n'));
        if (bad !== undefined) throw new InputError(`${JSON.stringify(bad.path)} has a newline in its name: use --null`);
        emitData(placed.map((p) => p.path + end).join(''), args.output);
        note(`${placed.length} files in image order`);
      }
      const dropped = [...profile.dropped, ...selection.dropped];
      if (dropped.length > 0) note(`dropped ${countDrops(dropped).map((c) => c.text).join(', ')}`);
      const empty = wanted.length - placed.length;
      if (empty > 0) note(`${empty} empty files left out (no data to read)`);
      if (profile.unmappedBlockEvents > 0) note(`${profile.unmappedBlockEvents} block events ignored (not mapped to files)`);
    } finally {
      image.close();
    }
  },
};
