import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { CheckFailedError, InputError, describeSystemError } from '../../errors.js';
import { openImage } from '../../image/open.js';
import { checkSortOrder, parseSortFile, type Offender, type SortCheck } from '../../image/verify.js';
import { emitData, note } from '../output.js';

interface VerifyArgs {
  image: string;
  sort: string;
  squashfs?: string;
  'strip-prefix': string[];
  physical: boolean;
  show: number;
  json: boolean;
}

export const verifyCommand: CommandModule<object, VerifyArgs> = {
  command: 'verify',
  describe: 'Check that an image places a sort file\'s regular files in priority order (exit 1 if not)',
  builder: (yargs: Argv) =>
    yargs
      .option('image', { type: 'string', demandOption: true, describe: 'The squashfs, or the ISO holding it' })
      .option('sort', { type: 'string', demandOption: true, describe: 'The mksquashfs sort file the image was built with' })
      .option('squashfs', { type: 'string', describe: 'Path of the squashfs on the ISO (default: detected)' })
      .option('strip-prefix', { type: 'string', array: true, default: [], describe: 'Remove this leading directory from sort file paths (absolute entries)' })
      .option('physical', {
        type: 'boolean',
        default: false,
        describe: 'Also order fragment-packed files against block files by byte position (mksquashfs flushes fragment blocks late, so this usually fails)',
      })
      .option('show', { type: 'number', default: 20, describe: 'How many offenders to list' })
      .option('json', { type: 'boolean', default: false, describe: 'Print the full result as JSON on stdout' })
      .example('$0 verify --image live.iso --sort config/distrib.sort', 'does the built image follow the sort file?') as Argv<VerifyArgs>,
  handler: (args) => {
    let bytes: Buffer;
    try {
      bytes = readFileSync(args.sort);
    } catch (err) {
      throw new InputError(describeSystemError(args.sort, err), { cause: err });
    }
    const entries = parseSortFile(bytes, args.sort);
    const image = openImage(args.image, args.squashfs !== undefined ? { squashfsPath: args.squashfs } : {});
    let result: SortCheck;
    try {
      result = checkSortOrder(image.squashfs!, entries, { stripPrefixes: args['strip-prefix'], physical: args.physical });
    } finally {
      image.close();
    }
    if (args.json) emitData(`${JSON.stringify(result)}\n`);
    const blocks = result.checked.filter((p) => p.kind === 'blocks').length;
    note(
      `${entries.length} sort entries: ${result.checked.length} files checked (${blocks} by first block, ${result.checked.length - blocks} by fragment), ` +
        `${result.missing.length} not in the image, ${result.skipped.length} skipped`,
    );
    for (const m of result.missing.slice(0, 5)) note(`  not in the image: ${JSON.stringify(m.path)} (line ${m.line})`);
    if (result.checked.length === 0) throw new InputError(`${args.sort}: no regular file of the sort file is in the image`);
    if (result.offenders.length === 0) {
      note(`${args.image} follows ${args.sort}`);
      return;
    }
    const shown = result.offenders.slice(0, Math.max(1, args.show));
    const lines = shown.map(describeOffender);
    const more = result.offenders.length - shown.length;
    throw new CheckFailedError(
      `${args.image} does not follow ${args.sort}: ${result.offenders.length} file${result.offenders.length === 1 ? "" : "s"} out of priority order` +
        `${args.physical ? '' : ' (blocks and fragments checked separately)'}:\n` +
        lines.join('\n') +
        (more > 0 ? `\n  ... and ${more} more (--show N)` : ''),
    );
  },
};

function describeOffender(o: Offender): string {
  const f = o.file;
  const other = o.other;
  const where = (p: typeof f): string => (p.kind === 'blocks' ? `block at ${p.offset}` : `fragment block at ${p.offset}`);
  const rel = o.relation === 'after-lower' ? 'comes after' : 'comes before';
  return `  ${f.path} (priority ${f.priority}, line ${f.line}, ${where(f)}) ${rel} ${other.path} (priority ${other.priority}, ${where(other)})`;
}
