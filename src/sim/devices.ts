import { InputError } from '../errors.js';
import type { DeviceModel } from './device.js';

/**
 * The device catalogue. docs/cost-model.md lists every figure with its source; those marked
 * `estimate` have no source and were chosen by us.
 */

const CD_1X = 75 * 2048; // 153,600 B/s: 75 sectors/s of 2048 user bytes
const DVD_1X = 1_385_000; // 11.08 Mbit/s = 1.321 MiB/s
const MIB = 1024 * 1024;

const CD_GEOMETRY = {
  kind: 'spiral' as const,
  innerRadiusMm: 25,
  outerRadiusMm: 58,
  capacityBytes: 360_000 * 2048, // 80 min x 60 s x 75 sectors/s
};

const cdSources = [
  { parameter: 'CD 1x rate', value: '75 sectors/s x 2048 B = 153.6 kB/s', source: 'firingsquad.com/guides/hiwoptical/page7.asp', estimate: false },
  { parameter: 'data radius', value: '25 mm (inner) to 58 mm (outer)', source: 'what-when-how (Upgrading & Repairing PCs); forum9', estimate: false },
  { parameter: 'capacity', value: '360,000 sectors (80 min x 60 s x 75 sectors/s) = 737,280,000 B', source: 'derived from the 1x rate', estimate: false },
  { parameter: 'average seek (1/3 stroke)', value: '85 ms', source: 'halolinux.us/hardware/head-movement-times.html; kb.iu.edu/d/adme', estimate: false },
  { parameter: 'full-stroke seek', value: '170 ms (2 x average)', source: 'no source found', estimate: true },
  { parameter: 'shortest seek', value: '5 ms', source: 'no source found', estimate: true },
];

export const CD52_CAV: DeviceModel = {
  id: 'cd52-cav',
  name: 'CD-ROM 52x CAV',
  geometry: CD_GEOMETRY,
  spindle: { kind: 'cav', rpm: 10_400, maxBytesPerSecond: 52 * CD_1X },
  seek: { minMs: 5, averageMs: 85, fullStrokeMs: 170 },
  sectorBytes: 2048,
  bufferBytes: 2 * MIB,
  sources: [
    ...cdSources,
    { parameter: 'rate at the outer edge', value: '52 x 153.6 kB/s = 7,987 kB/s ("52X Max", 7,800 KiB/s)', source: "O'Reilly, Repairing and Upgrading Your PC, ch. 8", estimate: false },
    { parameter: 'rate by radius', value: 'CAV: proportional to the radius (inner edge about 0.43 x the outer)', source: 'what-when-how; forum9', estimate: false },
    { parameter: 'spindle speed', value: '10,400 rpm (scaled from 56x = 11,200 rpm); 2.9 ms average latency', source: 'Strata guide (40x = 7,200 rpm, 56x = 11,200 rpm)', estimate: false },
    { parameter: 'drive buffer', value: '2 MiB', source: 'no source found', estimate: true },
  ],
};

export const CD24_CLV: DeviceModel = {
  id: 'cd24-clv',
  name: 'CD-ROM 24x CLV',
  geometry: CD_GEOMETRY,
  spindle: { kind: 'clv', bytesPerSecond: 24 * CD_1X, innerRpm: 24 * 539, fullSpeedChangeMs: 200 },
  seek: { minMs: 5, averageMs: 85, fullStrokeMs: 170 },
  sectorBytes: 2048,
  bufferBytes: 512 * 1024,
  sources: [
    ...cdSources,
    { parameter: 'rate (everywhere)', value: '24 x 153.6 kB/s = 3,686 kB/s (3,600 KB/s in the Yamaha table)', source: 'manualsdump Yamaha CRW2200', estimate: false },
    { parameter: 'spindle speed', value: '1x spins 539 rpm at the inner edge falling to about 210-230 at the outer; 24x: 12,936 rpm inner, 5,576 outer (rpm falls as 1/radius)', source: 'what-when-how Strata guide; PC Hardware in a Nutshell', estimate: false },
    { parameter: 'spindle speed change', value: '200 ms from the inner to the outer speed, proportional to the change; overlaps the sled move', source: 'CLV seeks change spindle speed: PC Hardware in a Nutshell; the time is ours', estimate: true },
    { parameter: 'drive buffer', value: '512 KiB', source: 'no source found', estimate: true },
  ],
};

export const DVD16_CAV: DeviceModel = {
  id: 'dvd16-cav',
  name: 'DVD-ROM 16x CAV',
  geometry: { kind: 'spiral', innerRadiusMm: 24, outerRadiusMm: 58, capacityBytes: 4_700_372_992 },
  spindle: { kind: 'cav', rpm: 9_200, maxBytesPerSecond: 16 * DVD_1X },
  seek: { minMs: 5, averageMs: 100, fullStrokeMs: 200 },
  sectorBytes: 2048,
  bufferBytes: 2 * MIB,
  sources: [
    { parameter: 'DVD 1x rate', value: '1.321 MiB/s (11.08 Mbit/s)', source: 'dvd-software.info/dvd-faq/42.php', estimate: false },
    { parameter: 'rate at the outer edge', value: '16 x 1x = 21.1 MiB/s (CAV, about 12x on average)', source: "dvd-faq; O'Reilly", estimate: false },
    { parameter: 'average seek', value: '100 ms', source: 'halolinux; dvd-faq', estimate: false },
    { parameter: 'full-stroke seek', value: '200 ms (2 x average)', source: 'no source found', estimate: true },
    { parameter: 'shortest seek', value: '5 ms', source: 'no source found', estimate: true },
    { parameter: 'data radius', value: '24 mm to 58 mm', source: 'no source found (CD figures used)', estimate: true },
    { parameter: 'capacity', value: '4,700,372,992 B (single layer)', source: 'no source found', estimate: true },
    { parameter: 'spindle speed', value: '9,200 rpm (16 x 3.49 m/s at 58 mm); 3.3 ms average latency', source: 'no source found', estimate: true },
    { parameter: 'drive buffer', value: '2 MiB', source: 'no source found', estimate: true },
  ],
};

export const HDD_7200: DeviceModel = {
  id: 'hdd7200',
  name: 'Hard disk 7200 rpm',
  geometry: { kind: 'linear', capacityBytes: 1e12 },
  spindle: { kind: 'fixed', rpm: 7200, bytesPerSecond: 150e6 },
  seek: { minMs: 1, averageMs: 9, fullStrokeMs: 18 },
  sectorBytes: 512,
  bufferBytes: 2 * MIB,
  sources: [
    { parameter: 'average seek', value: '9 ms', source: 'halolinux; kb.iu.edu/d/adme', estimate: false },
    { parameter: 'average latency', value: '4.17 ms at 7200 rpm (3-5.6 ms for 5400-10k rpm)', source: 'halolinux', estimate: false },
    { parameter: 'sequential rate', value: '150 MB/s (sources give 100-200 MB/s)', source: 'halolinux; kb.iu.edu', estimate: true },
    { parameter: 'full-stroke seek', value: '18 ms (2 x average)', source: 'no source found', estimate: true },
    { parameter: 'track-to-track seek', value: '1 ms', source: 'no source found', estimate: true },
    { parameter: 'disk size', value: '1 TB, image at its start (so seeks inside a live image are short)', source: 'no source found', estimate: true },
    { parameter: 'drive read-ahead', value: '2 MiB', source: 'no source found', estimate: true },
  ],
};

export const USB2_FLASH: DeviceModel = {
  id: 'usb2-flash',
  name: 'USB 2.0 flash stick',
  geometry: { kind: 'none' },
  spindle: { kind: 'none', bytesPerSecond: 30e6 },
  seek: { minMs: 1, averageMs: 1, fullStrokeMs: 1 },
  sectorBytes: 512,
  bufferBytes: 0,
  sources: [
    { parameter: 'sequential rate', value: '30 MB/s (USB 2.0 is 480 Mbit/s; practical 20-35 MB/s)', source: 'aluminumflashdrives (quoting a review)', estimate: true },
    { parameter: 'random read penalty', value: '1 ms per non-contiguous read (0.5-2 ms)', source: 'tomshardware USB 3.0 roundup (random 4K varies 100x)', estimate: true },
  ],
};

export const SATA_SSD: DeviceModel = {
  id: 'sata-ssd',
  name: 'SATA SSD',
  geometry: { kind: 'none' },
  spindle: { kind: 'none', bytesPerSecond: 530e6 },
  seek: { minMs: 0.1, averageMs: 0.1, fullStrokeMs: 0.1 },
  sectorBytes: 512,
  bufferBytes: 0,
  sources: [
    { parameter: 'sequential rate', value: '530 MB/s (SATA 6 Gbit/s carries 600 MB/s after 8b/10b coding)', source: 'no source found', estimate: true },
    { parameter: 'random read penalty', value: '0.1 ms per non-contiguous read', source: 'no source found', estimate: true },
  ],
};

export const DEVICES: readonly DeviceModel[] = [CD52_CAV, CD24_CLV, DVD16_CAV, HDD_7200, USB2_FLASH, SATA_SSD];

/** Short names for the command line (`--device cd52x`), beside each model's own id. */
export const DEVICE_ALIASES: Readonly<Record<string, string>> = {
  cd52x: 'cd52-cav',
  cd24x: 'cd24-clv',
  dvd16x: 'dvd16-cav',
  hdd: 'hdd7200',
  usb2: 'usb2-flash',
  ssd: 'sata-ssd',
};

export function deviceById(id: string): DeviceModel {
  const wanted = DEVICE_ALIASES[id] ?? id;
  const device = DEVICES.find((d) => d.id === wanted);
  if (device === undefined) {
    const names = [...Object.keys(DEVICE_ALIASES), ...DEVICES.map((d) => d.id)];
    throw new InputError(`unknown device "${id}" (known: ${names.join(', ')})`);
  }
  return device;
}
