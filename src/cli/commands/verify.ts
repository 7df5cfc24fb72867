import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { CheckFailedError, InputError, describeSystemError } from '../../errors.js';
import type { FragmentCheck, FragmentOffender, Offender, SortCheck } from '../../image/verify.js';
import { emitData, note } from '../output.js';
import { squashfsPathOf, withImage, type ImageArgs } from '../options/image.js';
import { withStripPrefix, type StripPrefixArgs } from '../options/profile-filters.js';

type VerifyArgs = ImageArgs &
  StripPrefixArgs & {
    sort: string;
    actions?: string;
    physical: boolean;
    show: number;
    json: boolean;
  };

export const verifyCommand: CommandModule<object, VerifyArgs> = {
  command: 'verify',
  describe:
    "Check that an image places a sort file's regular files in priority order and, with --actions, that no file the action file marks no-fragments is in a fragment (exit 4 if not)",
  builder: (yargs: Argv) =>
    withStripPrefix(withImage(yargs, { manifest: false }), 'sort file paths (absolute entries)')
      .option('sort', { type: 'string', demandOption: true, describe: 'The mksquashfs sort file the image was built with' })
      .option('actions', {
        type: 'string',
        describe: 'The mksquashfs action file (-action-file) the image was built with: every file it marks no-fragments must have no fragment',
      })
      .option('physical', {
        type: 'boolean',
        default: false,
        describe: 'Also order fragment-packed files against block files by byte position (mksquashfs flushes fragment blocks late, so this usually fails)',
      })
      .option('show', { type: 'number', default: 20, describe: 'How many offenders to list' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the full result as JSON on stdout' })
      .example('$0 verify --image live.iso --sort config/distrib.sort', 'does the built image follow the sort file?')
      .example('$0 verify --image live.iso --sort distrib.sort --actions distrib.actions', '... and keep the no-fragments files out of fragment blocks?') as Argv<VerifyArgs>,
  handler: async (args) => {
    // loaded when the command runs, not at start-up
    const { openImage } = await import('../../image/open.js');
    const { parseActionFile } = await import('../../formats/action-file.js');
    const { checkNoFragments, checkSortOrder, parseSortFile } = await import('../../image/verify.js');
    const read = (path: string): Buffer => {
      try {
        return readFileSync(path);
      } catch (err) {
        throw new InputError(describeSystemError(path, err), { cause: err });
      }
    };
    const entries = parseSortFile(read(args.sort), args.sort);
    const specs = args.actions === undefined ? undefined : parseActionFile(read(args.actions), args.actions);
    const image = openImage(args.image, squashfsPathOf(args));
    let result: SortCheck;
    let fragments: FragmentCheck | undefined;
    try {
      result = checkSortOrder(image.squashfs!, entries, { stripPrefixes: args['strip-prefix'], physical: args.physical });
      if (specs !== undefined) fragments = checkNoFragments(image.layout, specs, args.actions!);
    } finally {
      image.close();
    }
    if (args.json) emitData(`${JSON.stringify(fragments === undefined ? result : { ...result, fragments })}\n`);
    const blocks = result.checked.filter((p) => p.kind === 'blocks').length;
    note(
      `${entries.length} sort entries: ${result.checked.length} files checked (${blocks} by first block, ${result.checked.length - blocks} by fragment), ` +
        `${result.missing.length} not in the image, ${result.skipped.length} skipped`,
    );
    for (const m of result.missing.slice(0, 5)) note(`  not in the image: ${JSON.stringify(m.path)} (line ${m.line})`);
    if (result.checked.length === 0) throw new InputError(`${args.sort}: no regular file of the sort file is in the image`);
    if (fragments !== undefined) {
      note(`${args.actions}: ${fragments.actions} no-fragments action${fragments.actions === 1 ? '' : 's'} mark ${fragments.marked.length} files of the image`);
      if (fragments.actions > 0 && fragments.marked.length === 0) throw new InputError(`${args.actions}: no file of the image is marked no-fragments`);
    }
    const failures: string[] = [];
    if (result.offenders.length > 0) {
      const shown = result.offenders.slice(0, Math.max(1, args.show));
      const more = result.offenders.length - shown.length;
      failures.push(
        `${args.image} does not follow ${args.sort}: ${result.offenders.length} file${result.offenders.length === 1 ? '' : 's'} out of priority order` +
          `${args.physical ? '' : ' (blocks and fragments checked separately)'}:\n` +
          shown.map(describeOffender).join('\n') +
          (more > 0 ? `\n  ... and ${more} more (--show N)` : ''),
      );
    } else note(`${args.image} follows ${args.sort}`);
    if (fragments !== undefined) {
      if (fragments.offenders.length > 0) {
        const shown = fragments.offenders.slice(0, Math.max(1, args.show));
        const more = fragments.offenders.length - shown.length;
        failures.push(
          `${args.image} stores ${fragments.offenders.length} of the ${fragments.marked.length} files ${args.actions} marks no-fragments in fragment blocks:\n` +
            shown.map(describeFragmentOffender).join('\n') +
            (more > 0 ? `\n  ... and ${more} more (--show N)` : ''),
        );
      } else note(`${args.image}: none of the ${fragments.marked.length} no-fragments files is in a fragment block`);
    }
    if (failures.length > 0) throw new CheckFailedError(failures.join('\n'));
  },
};

function describeFragmentOffender(o: FragmentOffender): string {
  const shared = o.sameDataAs === undefined ? '' : ` (its data is ${o.sameDataAs}'s)`;
  return `  ${o.path}${shared}: tail in fragment block ${o.fragment} at ${o.blockStart}, shared by ${o.sharedBy} file${o.sharedBy === 1 ? '' : 's'}`;
}

function describeOffender(o: Offender): string {
  const f = o.file;
  const other = o.other;
  const where = (p: typeof f): string => (p.kind === 'blocks' ? `block at ${p.offset}` : `fragment block at ${p.offset}`);
  const rel = o.relation === 'after-lower' ? 'comes after' : 'comes before';
  return `  ${f.path} (priority ${f.priority}, line ${f.line}, ${where(f)}) ${rel} ${other.path} (priority ${other.priority}, ${where(other)})`;
}
