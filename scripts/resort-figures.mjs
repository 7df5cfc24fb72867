#!/usr/bin/env node
// Compare the CD reads of qemu block traces of boots before and after `bootprof sort`:
//   node scripts/resort-figures.mjs [--json] BEFORE.log AFTER.log [MORE.log...]
// Each trace may be given a row name as NAME=PATH (e.g. before=boot1/qemu-trace.log).
// Figures, on the CD drive only (qemu's 512-byte format probes and the other disks are left out):
//   reads          read requests that reached the CD's block backend (blk_co_preadv)
//   bytes          bytes those requests read
//   seeks          reads that do not start where the previous CD read ended
//   far seeks      those seeks that jump FAR_SEEK_BYTES (256 KiB, src/sim/drive.ts) or more, either way
//   seek distance  sum of |start - previous end| over those seeks
// The change column compares each row with the first. Needs dist/ (npm run build).
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const distQemu = fileURLToPath(new URL('../dist/trace/qemu.js', import.meta.url));
if (!existsSync(distQemu)) {
  process.stderr.write('resort-figures: dist/ is missing; run "npm run build" first\n');
  process.exit(1);
}
const { parseQemuLog } = await import(distQemu);
const { FAR_SEEK_BYTES } = await import(new URL('../dist/sim/drive.js', import.meta.url).href);

/** Figures of one trace's CD reads, in trace order. */
function cdFigures(name, path) {
  const trace = parseQemuLog(readFileSync(path), path);
  const cds = trace.devices.filter((d) => d.kind === 'cdrom');
  if (cds.length !== 1) {
    const found = trace.devices.map((d) => d.description).join('; ') || 'no device';
    throw new Error(`${path}: expected one CD drive in the trace, found ${cds.length} (${found})`);
  }
  const cd = cds[0].id;
  let reads = 0;
  let bytes = 0;
  let seeks = 0;
  let farSeeks = 0;
  let seekDistance = 0;
  let end;
  for (const e of trace.events) {
    if (e.device !== cd) continue;
    reads++;
    bytes += e.length;
    if (end !== undefined && e.offset !== end) {
      seeks++;
      const jump = Math.abs(e.offset - end);
      if (jump >= FAR_SEEK_BYTES) farSeeks++;
      seekDistance += jump;
    }
    end = e.offset + e.length;
  }
  return { name, trace: path, device: cd, reads, bytes, seeks, farSeeks, seekDistance };
}

function change(base, value) {
  if (base === 0) return value === 0 ? '0%' : 'new';
  const pct = ((value - base) / base) * 100;
  return `${pct > 0 ? '+' : ''}${pct.toFixed(1)}%`;
}

function formatFigures(rows) {
  const base = rows[0];
  const cells = [['', 'reads', 'KiB read', 'seeks', 'far seeks', 'seek MiB', 'Δreads', 'ΔKiB', 'Δseeks', 'Δfar', 'Δseek MiB']];
  for (const r of rows) {
    cells.push([r.name, r.reads, (r.bytes / 1024).toFixed(0), r.seeks, r.farSeeks, (r.seekDistance / 1048576).toFixed(1),
      ...(r === base ? ['', '', '', '', ''] : [change(base.reads, r.reads), change(base.bytes, r.bytes), change(base.seeks, r.seeks),
        change(base.farSeeks, r.farSeeks), change(base.seekDistance, r.seekDistance)])].map(String));
  }
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  return cells.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd()).join('\n') + '\n';
}

const args = process.argv.slice(2);
const json = args.includes('--json');
const traces = args.filter((a) => a !== '--json');
if (traces.length < 2) {
  process.stderr.write('usage: resort-figures.mjs [--json] [NAME=]BEFORE-qemu-trace.log [NAME=]AFTER-qemu-trace.log...\n');
  process.exit(2);
}
try {
  const rows = traces.map((arg, i) => {
    const named = /^([\w.-]+)=(.+)$/.exec(arg);
    return named ? cdFigures(named[1], named[2]) : cdFigures(i === 0 ? 'before' : traces.length === 2 ? 'after' : `after-${i}`, arg);
  });
  process.stdout.write(json ? `${JSON.stringify(rows, null, 2)}\n` : formatFigures(rows));
} catch (err) {
  process.stderr.write(`resort-figures: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
