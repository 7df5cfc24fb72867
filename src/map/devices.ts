import { InputError } from '../errors.js';
import type { Layout } from '../image/layout.js';
import type { Trace, TraceDevice } from '../trace/types.js';

/**
 * Which coordinates a device's block offsets are in, and so how they reach the image Layout:
 *
 * - 'image': bytes of the outer image (the ISO, or a bare squashfs). qemu's blk_co_preadv and
 *   ide_atapi_cmd_read (LBA x 2048) on the CD, and a guest's blkparse/blktrace on sr0 (512-byte
 *   sectors of the ISO: already converted to bytes by the parser) are in these coordinates.
 * - 'squashfs': bytes inside the squashfs; the mapper adds layout.squashfsOffset. The module's
 *   sqread events, and a guest's trace of the loop device that backs the squashfs.
 * - 'skip': not mapped (another disk, or a device whose reads another device already counts).
 *
 * Defaults, by what the trace knows of the device (TraceDevice.kind):
 *   squashfs, loop        -> 'squashfs'
 *   cdrom, disk, unknown  -> 'image'
 * then, so that no read is counted twice and no foreign disk is mapped through the image:
 *   - when the trace has squashfs-coordinate devices, its image-coordinate devices are skipped
 *     (the loop device's reads are the squashfs's own; sr0's are the same data again, plus readahead);
 *   - of several image-coordinate devices, only one is mapped: a CD drive if the trace names one,
 *     otherwise the device with the most bytes read.
 * `overrides` ("ID=image|squashfs|skip", see parseDeviceOverride) win over every default.
 */
export type Coordinates = 'image' | 'squashfs' | 'skip';

export interface DeviceChoice {
  id: string;
  kind: TraceDevice['kind'];
  coordinates: Coordinates;
  /** Why: one line for messages. */
  reason: string;
  reads: number;
  bytes: number;
}

export type DeviceOverrides = ReadonlyMap<string, Coordinates>;

/** "ID=image", "ID=squashfs" or "ID=skip", as given on the command line. */
export function parseDeviceOverride(text: string): [string, Coordinates] {
  const eq = text.lastIndexOf('=');
  const id = text.slice(0, eq);
  const coordinates = text.slice(eq + 1);
  if (eq <= 0 || (coordinates !== 'image' && coordinates !== 'squashfs' && coordinates !== 'skip')) {
    throw new InputError(`--device ${JSON.stringify(text)}: expected ID=image, ID=squashfs or ID=skip`);
  }
  return [normaliseDeviceId(id), coordinates];
}

/** Linux devices are "8,0" in blkparse and "8:0" in the module's log: compare them as one. */
export function normaliseDeviceId(id: string): string {
  return /^\d+[,:]\d+$/.test(id) ? id.replace(',', ':') : id;
}

export function chooseDeviceCoordinates(
  trace: Trace,
  layout: Layout,
  overrides: DeviceOverrides = new Map(),
): Map<string, DeviceChoice> {
  const known = new Map((trace.devices ?? []).map((d) => [d.id, d]));
  const choices = new Map<string, DeviceChoice>();
  for (const event of trace.events) {
    if (event.kind !== 'block') continue;
    let choice = choices.get(event.device);
    if (choice === undefined) {
      const kind: TraceDevice['kind'] = event.squashfsOffset ? 'squashfs' : (known.get(event.device)?.kind ?? 'unknown');
      const squashfs = kind === 'squashfs' || kind === 'loop';
      choice = {
        id: event.device,
        kind,
        coordinates: squashfs ? 'squashfs' : 'image',
        reason: squashfs
          ? kind === 'loop'
            ? 'a loop device: its offsets are inside the squashfs'
            : 'offsets recorded inside the squashfs'
          : kind === 'unknown'
            ? 'offsets taken as bytes of the image'
            : `a ${kind === 'cdrom' ? 'CD drive' : 'disk'}: offsets are bytes of the image`,
        reads: 0,
        bytes: 0,
      };
      choices.set(event.device, choice);
    }
    choice.reads++;
    choice.bytes += event.length;
  }

  const all = [...choices.values()];
  if (layout.squashfsOffset === undefined) {
    for (const c of all) {
      if (c.coordinates === 'squashfs') skip(c, 'the image has no squashfs to place its offsets in');
    }
  }
  const image = all.filter((c) => c.coordinates === 'image');
  if (all.some((c) => c.coordinates === 'squashfs')) {
    for (const c of image) skip(c, 'the squashfs device(s) of this trace already count these reads');
  } else if (image.length > 1) {
    const cds = image.filter((c) => c.kind === 'cdrom');
    const pool = cds.length > 0 ? cds : image;
    const keep = pool.reduce((a, b) => (b.bytes > a.bytes ? b : a));
    for (const c of image) {
      if (c !== keep) skip(c, `only one device of a trace is mapped through the image by default; ${keep.id} was chosen`);
    }
  }

  for (const c of all) {
    const forced = overrides.get(normaliseDeviceId(c.id));
    if (forced !== undefined) {
      c.coordinates = forced;
      c.reason = 'as asked with --device';
    }
  }
  return choices;
}

function skip(choice: DeviceChoice, reason: string): void {
  choice.coordinates = 'skip';
  choice.reason = reason;
}
