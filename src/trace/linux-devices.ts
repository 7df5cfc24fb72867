import type { TraceDevice } from './types.js';

/** Block major numbers (Documentation/admin-guide/devices.txt) that tell us what a device is. */
const LOOP_MAJOR = 7;
const SCSI_CDROM_MAJOR = 11;

export function linuxDeviceKind(major: number): TraceDevice['kind'] {
  if (major === LOOP_MAJOR) return 'loop';
  if (major === SCSI_CDROM_MAJOR) return 'cdrom';
  return 'disk';
}
