import type { Argv } from 'yargs';
// the constants and parsers the options need, not the whole map stage (start-up)
import { parseDeviceOverride, type DeviceOverrides } from '../../map/devices.js';
import { BLOCK_OWNERS } from '../../map/evidence.js';
import { repeatable } from './repeatable.js';

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

/** A traced device's coordinates, `ID=image|squashfs|skip` (repeatable): map --device, simulate --trace-device. */
export function deviceCoordinatesOption(describe: string) {
  return repeatable(describe);
}

export function deviceCoordinatesOf(values: readonly string[]): DeviceOverrides {
  return new Map(values.map(parseDeviceOverride));
}
