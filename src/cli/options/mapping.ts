import type { Argv } from 'yargs';
import { BLOCK_OWNERS, parseDeviceOverride, type DeviceOverrides } from '../../map/index.js';

/* How a trace's block reads become file accesses (src/map). */

export interface BlockEventsArgs {
  'block-events': boolean;
}

export interface BlockOwnersArgs {
  'block-owners': string;
}

/** `--[no-]block-events`: map block reads through the image, or use only the events that name files. */
export function withBlockEvents<T>(yargs: Argv<T>): Argv<T & BlockEventsArgs> {
  return yargs.option('block-events', {
    type: 'boolean',
    default: true,
    describe: 'Map block reads through --image (--no-block-events: use only the events that name files)',
  }) as Argv<T & BlockEventsArgs>;
}

/** `--block-owners evidence|all`: which owners of a block read become accesses. */
export function withBlockOwners<T>(yargs: Argv<T>): Argv<T & BlockOwnersArgs> {
  return yargs.option('block-owners', {
    type: 'string',
    choices: BLOCK_OWNERS,
    default: 'evidence',
    describe:
      'Which owners of a block read become accesses: evidence (the files the trace shows were wanted: a read starts in their blocks; ' +
      'not those a readahead window only ran over, nor the other sharers of a fragment block read for a wanted file) or all (every owner)',
  }) as Argv<T & BlockOwnersArgs>;
}

/** A repeatable `ID=image|squashfs|skip` option (map --device, simulate --trace-device): whose coordinates a traced device's offsets are in. */
export function withDeviceCoordinates<T, K extends string>(yargs: Argv<T>, name: K, describe: string): Argv<T & { [k in K]: string[] }> {
  return yargs.option(name, {
    type: 'string',
    array: true,
    nargs: 1, // one value each: a repeatable option must not swallow the traces after it
    default: [],
    describe,
  }) as unknown as Argv<T & { [k in K]: string[] }>;
}

export function deviceCoordinatesOf(values: readonly string[]): DeviceOverrides {
  return new Map(values.map(parseDeviceOverride));
}
