#!/usr/bin/env node
// bench-real, by hand: where one boot's CD time goes. Replays the boot's qemu CD trace on the CD 52x
// model (as `bootprof simulate` does) and splits seeks, positioning and transfer time by what each
// read landed on: the ISO's own structures, bytes of the loopback squashfs never asked for (udev's
// blkid probes, readahead overshoot: no sqread event of the module covers them), the squashfs
// tables, file data, and the first read back from a probe or the ISO.
// Usage: node scripts/bench-real/seek-categories.mjs work-cache/bench-real/VARIANT [BOOT_DIR] [--reads]
// (--reads also lists, read by read, every read that seeks or lands on the tables: index, landing
// place, MiB into the squashfs, KiB, positioning ms, the extent's kind)
// (BOOT_DIR defaults to VARIANT/boot; the build whose dist/ is used: BENCH_BOOTPROF_DIST, else ./dist)
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const listReads = process.argv.includes('--reads');
const [variant, bootArg] = process.argv.slice(2).filter((a) => a !== '--reads');
if (!variant) {
  console.error('usage: seek-categories.mjs VARIANT_DIR [BOOT_DIR] [--reads]');
  process.exit(2);
}
const boot = bootArg ?? join(variant, 'boot');
const dist = resolve(process.env.BENCH_BOOTPROF_DIST ?? fileURLToPath(new URL('../../dist', import.meta.url)));
const load = (p) => import(pathToFileURL(join(dist, p)).href);
const { openImage } = await load('image/open.js');
const { findExtentIndex } = await load('image/layout.js');
const { simulateDevice } = await load('sim/drive.js');
const { CD52_CAV } = await load('sim/devices.js');
const { ReadsBuilder } = await load('sim/reads.js');
const { transferMs } = await load('sim/physics.js');

const image = openImage(join(variant, 'live.iso'));
const layout = image.layout;
const base = layout.squashfsOffset ?? 0;
const end = base + (layout.squashfsSize ?? 0);

// The CD's reads: the device the trace read the most bytes from (the results disk is written).
const all = [];
const bytesBy = new Map();
for (const m of readFileSync(join(boot, 'qemu-trace.log'), 'utf8').matchAll(/^(?:\d+@\d+\.\d+:)?blk_co_preadv blk (\S+) bs \S+ offset (\d+) bytes (\d+)/gm)) {
  const r = { dev: m[1], offset: Number(m[2]), length: Number(m[3]) };
  all.push(r);
  bytesBy.set(r.dev, (bytesBy.get(r.dev) ?? 0) + r.length);
}
const cd = [...bytesBy.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
const reads = all.filter((r) => r.dev === cd);

// What squashfs asked for: the module's sqread events (offsets in the squashfs). A metadata read
// logs its 2-byte header: count the whole 8 KiB block behind it.
const asked = [];
for (const line of readFileSync(join(boot, 'guest', 'events.tsv'), 'utf8').split('\n')) {
  const c = line.split('\t');
  if (c[2] !== 'sqread') continue;
  const length = Number(c[8]) < 64 ? 8194 : Number(c[8]);
  asked.push([base + Number(c[7]), base + Number(c[7]) + length]);
}
const wasAsked = (a, b) => asked.some(([x, y]) => x < b && a < y);

const builder = new ReadsBuilder();
reads.forEach((r, i) => builder.push(r.offset, r.length, -1, i));
const run = simulateDevice(CD52_CAV, builder.build(), { detail: true });

const PROBE = 'not asked by squashfs (probes, readahead)';
const ISO = "the ISO's own structures";
const categoryOf = (r) => {
  if (r.offset < base || r.offset >= end) return ISO;
  if (!wasAsked(r.offset, r.offset + r.length)) return PROBE;
  const e = layout.extents[findExtentIndex(layout.extents, r.offset)];
  return e && (e.kind === 'data-block' || e.kind === 'fragment-block') ? 'file data' : 'squashfs tables';
};
const rows = new Map();
const listed = [];
let previous = '';
reads.forEach((r, i) => {
  let category = categoryOf(r);
  const away = (c) => c === ISO || c === PROBE;
  if (away(previous) && !away(category)) {
    previous = category;
    category = `back from a probe or the ISO (${category})`;
  } else previous = category;
  const row = rows.get(category) ?? { seeks: 0, positioningMs: 0, bytes: 0, transferMs: 0 };
  if (run.detail.positioningMs[i] > 0) row.seeks++;
  row.positioningMs += run.detail.positioningMs[i];
  row.bytes += r.length;
  row.transferMs += transferMs(CD52_CAV, r.offset, r.offset + r.length);
  rows.set(category, row);
  if (listReads && (run.detail.positioningMs[i] > 0 || category.includes('tables'))) {
    const kind = layout.extents[findExtentIndex(layout.extents, r.offset)]?.kind ?? '-';
    listed.push([i, category, ((r.offset - base) / 1048576).toFixed(2), (r.length / 1024).toFixed(0), run.detail.positioningMs[i].toFixed(1), kind].join('\t'));
  }
});
console.log(`${boot}: ${reads.length} CD reads, CD 52x ${(run.totals.totalMs / 1000).toFixed(3)} s (positioning ${((run.totals.seekMs + run.totals.rotationMs) / 1000).toFixed(3)} s, transfer ${(run.totals.transferMs / 1000).toFixed(3)} s)`);
console.log('| landed on | seeks | positioning (s) | MiB | transfer (s) |\n|---|---:|---:|---:|---:|');
for (const [category, row] of rows) {
  console.log(`| ${category} | ${row.seeks} | ${(row.positioningMs / 1000).toFixed(3)} | ${(row.bytes / 1048576).toFixed(2)} | ${(row.transferMs / 1000).toFixed(3)} |`);
}
if (listReads) console.log(`\nread\tlanded on\tMiB into the squashfs\tKiB\tpositioning ms\textent\n${listed.join('\n')}`);
image.close();
