import type { Argv } from 'yargs';
import { DEFAULT_EXCLUDES } from '../../profile/filters.js';
import type { MergeMode } from '../../profile/merge.js';
import { repeatable } from './repeatable.js';

/*
 * Which profiled paths count, and how several profiles merge: the same options, defaults and
 * texts for sort, tune, readahead, simulate and report. Repeatable options take one value each
 * (nargs 1), so an option given before the traces does not swallow them.
 */

export interface StripPrefixArgs {
  'strip-prefix': string[];
}

export interface ProfileFilterArgs extends StripPrefixArgs {
  exclude: string[];
  'default-excludes': boolean;
  merge: MergeMode;
}

/** `--strip-prefix DIR` (repeatable); `of` names the paths it applies to. */
export function withStripPrefix<T>(yargs: Argv<T>, of = 'profiled paths, e.g. /mnt/live'): Argv<T & StripPrefixArgs> {
  return yargs.option('strip-prefix', repeatable(`Remove this leading directory from ${of} (repeatable)`)) as Argv<T & StripPrefixArgs>;
}

/** `--exclude`, `--[no-]default-excludes`, `--strip-prefix`, `--merge`. */
export function withProfileFilters<T>(yargs: Argv<T>): Argv<T & ProfileFilterArgs> {
  return withStripPrefix(
    yargs
      .option('exclude', repeatable('Drop paths matching this regex (repeatable)'))
      .option('default-excludes', {
        type: 'boolean',
        default: true,
        describe: `Drop ${DEFAULT_EXCLUDES.join(' ')} (--no-default-excludes keeps them)`,
      }),
  ).option('merge', {
    choices: ['concat', 'interleave'] as const,
    default: 'concat' as MergeMode,
    describe: 'Several profiles: concat (first profile\'s order, then new files of the next) or interleave (by relative position)',
  }) as Argv<T & ProfileFilterArgs>;
}

/** The exclusion regexes the arguments ask for: the defaults unless --no-default-excludes, then --exclude. */
export function excludesOf(args: Pick<ProfileFilterArgs, 'exclude' | 'default-excludes'>): string[] {
  return [...(args['default-excludes'] ? DEFAULT_EXCLUDES : []), ...args.exclude];
}
