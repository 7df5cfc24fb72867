import t, { type Test } from 'tap';
import type { DeviceModel } from '../src/sim/device.js';
import { CD24_CLV, CD52_CAV, DEVICES, DVD16_CAV, HDD_7200, deviceById } from '../src/sim/devices.js';
import { simulateDevice } from '../src/sim/drive.js';
import { throughPageCache } from '../src/sim/page-cache.js';
import {
  maxRate,
  radiusMm,
  rateAt,
  rotationalLatencyMs,
  rpmAt,
  seekExponent,
  seekMs,
  transferMs,
} from '../src/sim/physics.js';
import { mulberry32 } from '../src/sim/prng.js';
import { readsFrom } from '../src/sim/reads.js';

/** Round figures: 1 byte/us, 5 ms average latency, seek = 2 + 6 * stroke fraction (linear). */
const TOY: DeviceModel = {
  id: 'toy',
  name: 'toy disk',
  geometry: { kind: 'linear', capacityBytes: 1_000_000 },
  spindle: { kind: 'fixed', rpm: 6000, bytesPerSecond: 1_000_000 },
  seek: { minMs: 2, averageMs: 4, fullStrokeMs: 8 },
  sectorBytes: 1,
  bufferBytes: 100,
  sources: [],
};

const close = (t: Test, actual: number, expected: number, what: string): void => {
  t.ok(Math.abs(actual - expected) < 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} ~ ${expected}`);
};

t.test('hand-checked run on the toy disk', async (t) => {
  t.equal(seekExponent(TOY), 1, 'average at 1/3 stroke makes this curve linear');
  const run = simulateDevice(
    TOY,
    readsFrom([
      { offset: 0, length: 1000 }, // streams from the parked head: 1 ms
      { offset: 1000, length: 1000 }, // continues: 1 ms
      { offset: 500, length: 100 }, // behind the 100-byte buffer: seek 1500 B = 2 + 6*0.0015, 5 ms, 0.1 ms
      { offset: 650, length: 50 }, // 50 B ahead, within the buffer: stream over the gap, 0.1 ms
      { offset: 600, length: 50 }, // already buffered: a hit
      { offset: 100_000, length: 1000 }, // 99,300 B ahead: seek 2 + 6*0.0993, 5 ms, 1 ms
    ]),
    { detail: true },
  );
  const x = run.totals;
  t.equal(x.reads, 6);
  t.equal(x.bytes, 3200);
  t.equal(x.mediaBytes, 3200);
  t.equal(x.hits, 1);
  t.equal(x.seeks, 2);
  t.equal(x.seekDistance, 100_800);
  close(t, x.seekMs, 2.009 + 2.5958, 'seek');
  close(t, x.rotationMs, 10, 'rotation');
  close(t, x.transferMs, 3.2, 'transfer');
  close(t, x.totalMs, 17.8048, 'total');
  close(t, x.lowerBoundMs, 3, 'lower bound: 3000 distinct bytes at 1 B/us');
  t.same(Array.from(run.detail!.seekDistance), [0, 0, 1500, 0, 0, 99_300]);
  close(t, run.detail!.endMs[5]!, 17.8048, 'clock at the end');
});

t.test('device physics', async (t) => {
  const g = CD52_CAV.geometry;
  if (g.kind !== 'spiral') throw new Error('CD is a spiral');
  close(t, radiusMm(CD52_CAV, 0), 25, 'data starts at 25 mm');
  close(t, radiusMm(CD52_CAV, g.capacityBytes), 58, 'and ends at 58 mm');
  close(t, rateAt(CD52_CAV, g.capacityBytes), 52 * 153_600, '52x at the outer edge');
  t.ok(Math.abs(rateAt(CD52_CAV, 0) / maxRate(CD52_CAV) - 25 / 58) < 1e-12, 'inner rate = 25/58 of the outer (0.43)');
  // transfer time is the integral of 1/rate: a small read at the edge costs length / rate there
  const edge = g.capacityBytes - 2048;
  t.ok(Math.abs(transferMs(CD52_CAV, edge, edge + 2048) - (2048 / rateAt(CD52_CAV, edge + 1024)) * 1000) < 1e-9);
  close(t, transferMs(CD24_CLV, 0, 3_686_400), 1000, '24x CLV streams 3,686,400 B in one second');
  close(t, transferMs(CD52_CAV, 0, 1e6) + transferMs(CD52_CAV, 1e6, 3e6), transferMs(CD52_CAV, 0, 3e6), 'transfer time is additive');
  close(t, rotationalLatencyMs(HDD_7200, 0), 30000 / 7200, '7200 rpm: 4.17 ms average latency');
  close(t, rpmAt(CD24_CLV, g.capacityBytes), (24 * 539 * 25) / 58, 'CLV slows down as 1/r');
  // the seek curve passes through the sourced points
  const third = (dev: DeviceModel): number => {
    const geo = dev.geometry;
    if (geo.kind !== 'spiral') throw new Error('spiral');
    // offset whose radius is one third of the stroke out from the inner edge
    const r = geo.innerRadiusMm + (geo.outerRadiusMm - geo.innerRadiusMm) / 3;
    return ((r * r - geo.innerRadiusMm ** 2) / (geo.outerRadiusMm ** 2 - geo.innerRadiusMm ** 2)) * geo.capacityBytes;
  };
  close(t, seekMs(CD52_CAV, 0, third(CD52_CAV)), 85, 'CD: 1/3 stroke = 85 ms average');
  close(t, seekMs(DVD16_CAV, 0, third(DVD16_CAV)), 100, 'DVD: 1/3 stroke = 100 ms average');
  close(t, seekMs(CD52_CAV, 0, g.capacityBytes), 170, 'CD: full stroke');
  close(t, seekMs(HDD_7200, 0, 1e12 / 3), 9, 'HDD: 9 ms average');
  t.equal(seekMs(CD52_CAV, 5000, 5000), 0, 'no move, no seek');
  t.ok(seekMs(CD24_CLV, 0, g.capacityBytes) >= 200, 'a CLV full stroke waits for the spindle speed change');
  t.throws(() => deviceById('floppy'), { code: 'EINPUT' });
});

t.test('costs are monotonic in distance and in length, on every device', async (t) => {
  for (const device of DEVICES) {
    let previous = -1;
    for (let d = 0; d <= 600e6; d += 3e6 + 12345) {
      const cost = simulateDevice(device, readsFrom([{ offset: d, length: 65536 }])).totals.totalMs;
      if (cost < previous - 1e-9) t.fail(`${device.id}: a read ${d} B away costs ${cost} < ${previous}`);
      previous = cost;
    }
    let prevSeek = -1;
    for (let d = 1; d <= 700e6; d *= 3) {
      const s = seekMs(device, 1000, 1000 + d);
      if (s < prevSeek) t.fail(`${device.id}: seek of ${d} B is cheaper than a shorter one`);
      prevSeek = s;
    }
    let prevLen = -1;
    for (let len = 2048; len <= 64 * 1048576; len *= 2) {
      const cost = simulateDevice(device, readsFrom([{ offset: 10e6, length: len }])).totals.totalMs;
      if (cost <= prevLen) t.fail(`${device.id}: reading ${len} B is not dearer than half as much`);
      prevLen = cost;
    }
    t.pass(`${device.id} monotonic`);
  }
});

t.test('the lower bound never exceeds the simulated cost', async (t) => {
  const random = mulberry32(42);
  let checked = 0;
  for (let trial = 0; trial < 40; trial++) {
    const list: { offset: number; length: number }[] = [];
    const n = 1 + Math.floor(random() * 300);
    let pos = Math.floor(random() * 1e8);
    for (let i = 0; i < n; i++) {
      // mostly sequential with jumps back and forth, some overlaps and repeats
      const r = random();
      if (r < 0.2) pos = Math.floor(random() * 6e8);
      else if (r < 0.3) pos = Math.max(0, pos - Math.floor(random() * 200000));
      const length = 1 + Math.floor(random() * 262144);
      list.push({ offset: pos, length });
      pos += length + (random() < 0.5 ? 0 : Math.floor(random() * 100000));
    }
    const reads = readsFrom(list);
    const cached = throughPageCache(reads, 7e8, { readaheadBytes: 131072 });
    for (const device of DEVICES) {
      for (const stream of [reads, cached]) {
        const x = simulateDevice(device, stream).totals;
        if (!(x.lowerBoundMs <= x.totalMs * (1 + 1e-12) + 1e-12)) t.fail(`${device.id}: bound ${x.lowerBoundMs} > ${x.totalMs}`);
        if (!(x.lowerBoundMs > 0)) t.fail(`${device.id}: empty bound`);
        checked++;
      }
    }
  }
  t.equal(checked, 40 * DEVICES.length * 2, 'every run checked');
});

t.test('deterministic', async (t) => {
  const reads = readsFrom([
    { offset: 5e6, length: 8192 },
    { offset: 1e6, length: 131072 },
    { offset: 3e8, length: 4096 },
  ]);
  for (const device of DEVICES) t.same(simulateDevice(device, reads).totals, simulateDevice(device, reads).totals);
});

t.test('page cache: re-reads vanish and misses grow into readahead windows', async (t) => {
  const reads = readsFrom([
    { offset: 0, length: 8192 }, // 2 pages -> first window 4 pages (x2: 2 <= 32/4)
    { offset: 4096, length: 100 }, // cached
    { offset: 16384, length: 4096 }, // continues the window: 4 pages is not below 32/16, so it doubles to 8
    { offset: 1 << 20, length: 131072 }, // 32 pages: the maximum window
  ]);
  const out = throughPageCache(reads, 1 << 24, { readaheadBytes: 131072 });
  t.same(Array.from(out.offset), [0, 16384, 1 << 20]);
  t.same(Array.from(out.length), [16384, 32768, 131072]);
  t.same(Array.from(out.step), [0, 2, 3], 'each device read keeps the step that caused it');
  const none = throughPageCache(reads, 1 << 24, { readaheadBytes: 0 });
  t.same(Array.from(none.length), [8192, 4096, 131072], 'readahead off: whole missing pages only');
});
