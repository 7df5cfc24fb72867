import type { Argv } from 'yargs';
import type { DeviceModel } from '../../sim/device.js';
import { DEVICE_ALIASES, DEVICES, deviceById } from '../../sim/devices.js';
import { repeatable } from './repeatable.js';

/** The drive models (src/sim/devices.ts): short aliases first, then every model id. */
const ALIASES = Object.keys(DEVICE_ALIASES).join(', ');

export interface DeviceArgs {
  device: string;
}

export interface DevicesArgs {
  device: string[];
}

/** `--device NAME`: the one drive a layout is planned for (sort, tune). */
export function withDevice<T>(yargs: Argv<T>): Argv<T & DeviceArgs> {
  return yargs.option('device', {
    type: 'string',
    default: 'cd24x',
    describe: `Drive the layout is optimized for: ${ALIASES} (or a model id)`,
  }) as Argv<T & DeviceArgs>;
}

/** `--device NAME` (repeatable): the drives to cost (simulate, report); none given is every model. */
export function withDevices<T>(yargs: Argv<T>): Argv<T & DevicesArgs> {
  return yargs.option(
    'device',
    repeatable(`Device models to cost (repeatable; default all): ${DEVICES.map((d) => d.id).join(', ')} (or ${ALIASES})`),
  ) as Argv<T & DevicesArgs>;
}

/** The model `--device` names (an unknown one is an InputError, before any work). */
export function deviceOf(args: DeviceArgs): DeviceModel {
  return deviceById(args.device);
}

export function devicesOf(args: DevicesArgs): readonly DeviceModel[] {
  return args.device.length > 0 ? args.device.map(deviceById) : DEVICES;
}
