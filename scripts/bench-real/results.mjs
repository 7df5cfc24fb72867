#!/usr/bin/env node
// bench-real, last step: gather each variant's measured figures (from `bootprof simulate --json` on the
// variant's own qemu block trace), write bench/results/results.json and RESULTS.md, the README's
// Results section (--readme), the bundled profile's manifest and README, and print the table and
// issue 10's acceptance ratios (PASS/FAIL), all measured side by side in the same run.
import { closeSync, existsSync, lstatSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    cache: { type: 'string' }, results: { type: 'string' }, 'profile-dir': { type: 'string' },
    kernel: { type: 'string' }, suite: { type: 'string' }, packages: { type: 'string' }, comp: { type: 'string' },
    elapsed: { type: 'string' }, repeats: { type: 'string' }, 'opt-device': { type: 'string' },
    variants: { type: 'string' }, readme: { type: 'string' }, 'bootprof-rev': { type: 'string' },
  },
});
const cache = opt.cache;
const resultsDir = opt.results;
const profileDir = opt['profile-dir'];
if (!cache || !resultsDir || !profileDir) throw new Error('results.mjs: --cache, --results and --profile-dir are required');

const OPT_DEVICE = opt['opt-device'] ?? 'cd52x';
const ALL_VARIANTS = [
  { id: 'unsorted', label: 'unsorted', what: 'mksquashfs without a sort file' },
  { id: 'seed', label: "seed's recipe", what: "the seed's perl one-liner on the first unsorted boot's module files list (path/priority swapped, leading / removed)" },
  { id: 'sorted', label: 'bootprof sort (old recipe)', what: 'bootprof sort --root on the first unsorted boot\'s module log (the recipe this README gave before the optimizer)' },
  { id: 'sorted-ra', label: 'bootprof sort (old) + readahead', what: 'the sorted image plus /live/readahead.ranges (bootprof readahead --ranges of the first unsorted boot\'s file events) read by the initramfs before mounting the root' },
  { id: 'optimized', label: 'optimized', what: `\`bootprof sort --root --device ${OPT_DEVICE} --actions\` and \`bootprof tune --root --device ${OPT_DEVICE}\` on the module logs of all the unsorted boots; mksquashfs with tune's options, -sort and -action-file` },
  { id: 'optimized-ra', label: 'optimized + readahead', what: 'the optimized image plus /live/readahead.ranges (bootprof readahead --ranges of all the unsorted boots\' file events) read by the initramfs before mounting the root' },
  { id: 'profiling', label: 'profiling boot (no fragments, no readahead)', what: 'mksquashfs -no-fragments without a sort file, booted with readahead off on the CD: the boot to capture when the profile comes from a block trace (every file owns its blocks, every read was asked for)' },
  { id: 'blocktrace', label: 'optimized, qemu trace only', what: `the optimizer fed only the profiling boots' qemu block traces, no module log: \`map --block-owners all --image profiling.iso\`, then \`sort\`/\`tune --root --device ${OPT_DEVICE}\`` },
];
const wanted = opt.variants ? opt.variants.split(',') : ALL_VARIANTS.map((v) => v.id);
const VARIANTS = ALL_VARIANTS.filter((v) => wanted.includes(v.id));
const DEVICES = ['cd52-cav', 'cd24-clv'];

const readText = (p) => (existsSync(p) ? readFileSync(p, 'utf8') : '');
const lineCount = (p) => readText(p).split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
const stats = (p) => Object.fromEntries(readText(p).split('\n').map((l) => l.split(' ')).filter((c) => c.length === 2).map(([k, v]) => [k, Number(v)]));

const REPEATS = Math.max(1, Number(opt.repeats ?? 1));
const METRICS = ['reads', 'bytes', 'seeks', 'farSeeks', 'seekDistance', 'seekMs', 'rotationMs', 'transferMs', 'totalMs', 'lowerBoundMs'];

/**
 * The raw trace's far jumps (>= 256 KiB either way between the end of one CD read and the start of
 * the next), by where they land: the ISO's own structures (outside the loopback), the loopback inside
 * the variant's readahead ranges, or the rest of the loopback. A cross-check of where the simulated
 * far seeks come from; null when the trace or the loopback's offset is missing.
 */
function farJumps(dir, ranges) {
  const text = readText(join(dir, 'qemu-trace.log'));
  const base = Number(readText(join(dir, '..', 'squashfs-offset')).trim());
  if (!text || !Number.isFinite(base) || base <= 0) return null;
  const size = statSync(join(dir, '..', 'filesystem.squashfs')).size;
  const reads = [];
  const bytesBy = new Map();
  for (const m of text.matchAll(/^(?:\d+@\d+\.\d+:)?blk_co_preadv blk (\S+) bs \S+ offset (\d+) bytes (\d+)/gm)) {
    const r = { dev: m[1], offset: Number(m[2]), length: Number(m[3]) };
    reads.push(r);
    bytesBy.set(r.dev, (bytesBy.get(r.dev) ?? 0) + r.length);
  }
  // The CD: the device with the most bytes read (the results disk is written, not read).
  const cd = [...bytesBy.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  const out = { total: 0, iso: 0, readahead: 0, loopback: 0 };
  let end = 0;
  for (const r of reads) {
    if (r.dev !== cd) continue;
    if (Math.abs(r.offset - end) >= 256 * 1024) {
      out.total++;
      const rel = r.offset - base;
      if (rel < 0 || rel >= size) out.iso++;
      else if (ranges.some(([o, n]) => rel >= Math.floor(o / 4096) * 4096 && rel < o + n)) out.readahead++;
      else out.loopback++;
    }
    end = r.offset + r.length;
  }
  return out;
}

/** One boot of one variant: its measured figures per device and what the guest reported. */
function bootFigures(dir, ranges = []) {
  const sim = JSON.parse(readFileSync(join(dir, 'simulate.json'), 'utf8'));
  const measured = sim.scenarios.find((s) => s.layout.startsWith('measured'));
  if (!measured) throw new Error(`${dir}: simulate.json has no measured scenario`);
  const guest = join(dir, 'guest');
  const devices = {};
  for (const d of DEVICES) {
    const m = measured.devices[d];
    if (m) devices[d] = Object.fromEntries(METRICS.map((k) => [k, round(m[k] ?? NaN)]));
  }
  const uptime = Number(readText(join(guest, 'uptime.txt')).split(' ')[0]);
  return {
    devices,
    farJumps: farJumps(dir, ranges),
    moduleStats: stats(join(guest, 'stats.txt')),
    guestUptimeAtEndS: Number.isFinite(uptime) ? uptime : null,
    systemdAnalyze: (readText(join(guest, 'systemd-analyze.txt')).split('\n')[0] ?? '').trim(),
    qemu: JSON.parse(readText(join(dir, 'qemu-run.json')) || '{}'),
  };
}

const rows = [];
for (const v of VARIANTS) {
  const dir = join(cache, v.id);
  const boots = [];
  const raFile = { 'sorted-ra': 'readahead.ranges', 'optimized-ra': 'optimized-readahead.ranges' }[v.id];
  const raRanges = raFile ? readRanges(join(cache, raFile)) : [];
  for (let n = 1; n <= REPEATS; n++) boots.push(bootFigures(join(dir, n === 1 ? 'boot' : `boot-${n}`), raRanges));
  const devices = {};
  for (const d of DEVICES) {
    const per = boots.map((b) => b.devices[d]).filter(Boolean);
    if (per.length === 0) continue;
    devices[d] = Object.fromEntries(METRICS.map((k) => [k, round(per.reduce((a, b) => a + b[k], 0) / per.length)]));
    devices[d].min = Object.fromEntries(METRICS.map((k) => [k, Math.min(...per.map((b) => b[k]))]));
    devices[d].max = Object.fromEntries(METRICS.map((k) => [k, Math.max(...per.map((b) => b[k]))]));
  }
  rows.push({
    id: v.id, label: v.label, what: v.what,
    squashfsBytes: statSync(join(dir, 'filesystem.squashfs')).size,
    squashfsBlockSize: superblockBlockSize(join(dir, 'filesystem.squashfs')),
    isoBytes: statSync(join(dir, 'live.iso')).size,
    mksquashfs: readText(join(dir, 'mksquashfs.cmd')).trim().replaceAll(`${cache}/`, 'work-cache/bench-real/') || null,
    ...devices['cd52-cav'],
    devices,
    boots,
  });
}

const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
const has = (id) => id in byId;
const minBound = Math.min(...rows.map((r) => r.lowerBoundMs));
const ratio = (a, b) => (b > 0 ? a / b : NaN);
const verdicts = {
  sortBeatsSeedOnSeeks: byId.sorted.seeks < byId.seed.seeks,
  sortBeatsSeedOnBytes: byId.sorted.bytes < byId.seed.bytes,
  sortBeatsSeedOnSeeksInEveryBoot: byId.sorted.max.seeks < byId.seed.min.seeks,
  sortBeatsSeedOnBytesInEveryBoot: byId.sorted.max.bytes < byId.seed.min.bytes,
  readaheadWithin2xOwnBound: byId['sorted-ra'].totalMs <= 2 * byId['sorted-ra'].lowerBoundMs,
  readaheadWithin2xSmallestBound: byId['sorted-ra'].totalMs <= 2 * minBound,
  readaheadVsOwnBound: round(byId['sorted-ra'].totalMs / byId['sorted-ra'].lowerBoundMs, 2),
  readaheadVsSmallestBound: round(byId['sorted-ra'].totalMs / minBound, 2),
  smallestLowerBoundMs: round(minBound),
};

// Issue 10's "Done when", measured side by side in this run: each ratio on the means over the boots,
// and on the worst pairing of single boots (this variant's worst boot against the other's best).
const acceptance = [];
function check(id, criterion, value, limit, detail, worst) {
  acceptance.push({
    id, criterion, limit, detail,
    value: round(value, 3), pass: value <= limit,
    worstBootValue: worst === undefined ? null : round(worst, 3),
    worstBootPass: worst === undefined ? null : worst <= limit,
  });
}
const fmtMiB = (b) => `${(b / 1048576).toFixed(2)} MiB`;
if (has('optimized')) {
  const o = byId.optimized, sd = byId.seed, u = byId.unsorted;
  check('sortFarSeeks', 'sort only: far seeks, optimized / seed', ratio(o.farSeeks, sd.farSeeks), 0.5,
    `${o.farSeeks} / ${sd.farSeeks}`, ratio(o.max.farSeeks, sd.min.farSeeks));
  check('sortBytes', 'sort only: bytes read, optimized / seed', ratio(o.bytes, sd.bytes), 1,
    `${fmtMiB(o.bytes)} / ${fmtMiB(sd.bytes)}`, ratio(o.max.bytes, sd.min.bytes));
  check('sortLoopback', 'sort only: loopback size, optimized / unsorted', ratio(o.squashfsBytes, u.squashfsBytes), 1.01,
    `${o.squashfsBytes} / ${u.squashfsBytes} bytes`);
  check('sortCd52Time', 'sort only: CD 52x est. I/O time, optimized / seed', ratio(o.totalMs, sd.totalMs), 0.7,
    `${sec(o.totalMs)} / ${sec(sd.totalMs)} s`, ratio(o.max.totalMs, sd.min.totalMs));
}
if (has('optimized-ra') && has('optimized')) {
  const r = byId['optimized-ra'], o = byId.optimized;
  check('raSeeks', 'sort + readahead: seeks in the whole boot (optimized-ra)', r.seeks, 5, `${r.seeks} seeks (${r.farSeeks} far)`, r.max.seeks);
  check('raBytes', 'sort + readahead: bytes read, optimized-ra / optimized', ratio(r.bytes, o.bytes), 1.25,
    `${fmtMiB(r.bytes)} / ${fmtMiB(o.bytes)}`, ratio(r.max.bytes, o.min.bytes));
}
if (has('blocktrace')) {
  const bt = byId.blocktrace, sd = byId.seed;
  check('blocktraceFarSeeks', 'qemu trace only: far seeks, blocktrace / seed', ratio(bt.farSeeks, sd.farSeeks), 1,
    `${bt.farSeeks} / ${sd.farSeeks}`, ratio(bt.max.farSeeks, sd.min.farSeeks));
  check('blocktraceBytes', 'qemu trace only: bytes read, blocktrace / seed', ratio(bt.bytes, sd.bytes), 1,
    `${fmtMiB(bt.bytes)} / ${fmtMiB(sd.bytes)}`, ratio(bt.max.bytes, sd.min.bytes));
}

const sortLines = lineCount(join(cache, 'bootprof.sort'));
const seedLines = lineCount(join(cache, 'seed.sort'));
const ranges = readRanges(join(cache, 'readahead.ranges'));
// The seed's sort file lists directories too: each hands its priority to the unlisted files below it.
const seedDirs = readText(join(cache, 'seed.sort')).split('\n').map((l, i) => ({ line: i + 1, path: l.replace(/ -?\d+$/, '') }))
  .filter((e) => e.path !== '' && (() => { try { return lstatSync(join(cache, 'root', e.path)).isDirectory(); } catch { return false; } })());
const seedUsr = seedDirs.find((d) => d.path === 'usr');
const verify = JSON.parse(readText(join(cache, 'sorted', 'verify.json')) || 'null');
const profileStats = stats(join(cache, 'unsorted', 'boot', 'guest', 'stats.txt'));

/** `bootprof verify --json` of a variant, summarized: exit status, arrays by their length. */
function verifySummary(id) {
  const rc = readText(join(cache, id, 'verify.rc')).trim();
  let json = null;
  try { json = JSON.parse(readText(join(cache, id, 'verify.json')) || 'null'); } catch { json = null; }
  const summary = { exitCode: rc === '' ? null : Number(rc) };
  if (json && typeof json === 'object') {
    for (const [k, v] of Object.entries(json)) {
      if (Array.isArray(v)) summary[k] = v.length;
      else if (v === null || typeof v !== 'object') summary[k] = v;
    }
  }
  const log = readText(join(cache, id, 'verify.log')).trim();
  if (log) summary.stderr = log.split('\n').slice(0, 8);
  return summary;
}
/** What the optimizer decided for one variant: sort and action files, tune's options and predictions. */
function optimizerInputs(id) {
  if (!has(id)) return null;
  let tuneJson = null;
  try { tuneJson = JSON.parse(readText(join(cache, id, 'tune.json')) || 'null'); } catch { tuneJson = null; }
  const actionsText = readText(join(cache, `${id}.actions`));
  return {
    device: OPT_DEVICE,
    sortLines: lineCount(join(cache, `${id}.sort`)),
    actionLines: lineCount(join(cache, `${id}.actions`)),
    // One pathname(...) test per file (sub)pathname groups directories; lines are continued with a backslash.
    actionFiles: (actionsText.match(/(?<!sub)pathname\(/g) ?? []).length,
    actionKinds: [...actionsText.matchAll(/^([a-z][a-z-]*)@/gm)].reduce((m, a) => ({ ...m, [a[1]]: (m[a[1]] ?? 0) + 1 }), {}),
    tuneOptions: readText(join(cache, id, 'tune.opts')).trim(),
    sortStderr: readText(join(cache, id, 'sort.log')).trim().split('\n').filter(Boolean).slice(-12),
    tuneStderr: readText(join(cache, id, 'tune.log')).trim().split('\n').filter(Boolean).slice(-30),
    tune: tuneJson,
    verify: verifySummary(id),
  };
}
const optRanges = readRanges(join(cache, 'optimized-readahead.ranges'));

const results = {
  generatedBy: 'scripts/bench-real/run',
  generatedAt: new Date().toISOString(),
  bootprofRevision: opt['bootprof-rev'] ?? null,
  system: {
    distribution: `Debian ${opt.suite} (debootstrap --variant=minbase)`,
    packages: (opt.packages ?? '').split(','),
    kernel: opt.kernel,
    squashfs: { compressor: opt.comp, blockSize: 131072, note: 'default block size; a variant built with tune\'s options may differ (variants[].squashfsBlockSize)' },
    workload: 'systemd to multi-user, getty autologin on ttyS0, scripts/bench-real/guest/bench-workload as user bench',
  },
  inputs: {
    moduleEvents: profileStats.logged ?? null,
    moduleDropped: profileStats.dropped ?? null,
    unsortedBootsProfiled: REPEATS,
    filesListed: lineCount(join(cache, 'unsorted', 'boot', 'guest', 'files.list')),
    seedSortLines: seedLines,
    bootprofSortLines: sortLines,
    readaheadRanges: ranges.length,
    readaheadBytes: listedBytes(join(cache, 'readahead.ranges')),
    verifySorted: verify === null ? null : { checked: verify.checked.length, offenders: verify.offenders.length, missing: verify.missing.length, skipped: verify.skipped.length },
    optimized: optimizerInputs('optimized'),
    optimizedReadahead: has('optimized-ra') ? { ranges: optRanges.length, bytes: listedBytes(join(cache, 'optimized-readahead.ranges')) } : null,
    blocktrace: optimizerInputs('blocktrace'),
  },
  bootsPerVariant: REPEATS,
  metric: 'Figures are the mean over the variant\'s boots (min and max alongside). Every figure is measured on the variant\'s own boot: qemu\'s blk_co_preadv trace of the CD, costed by bootprof simulate (device cd52-cav unless named). seeks = reads the simulated drive cannot serve from its buffer or by streaming on (it must position the head); farSeeks = those whose jump is 256 KiB or more either way; seekDistance = the sum of the jumps; lowerBoundMs = the same bytes read in one sweep.',
  variants: rows,
  verdicts,
  acceptance: acceptance.length ? { source: 'issue 10, "Done when" (sort only, sort + readahead, qemu trace only)', criteria: acceptance, allPass: acceptance.every((c) => c.pass) } : null,
  elapsedSeconds: Number(opt.elapsed ?? 0),
  qemuBootSeconds: round(rows.flatMap((r) => r.boots).reduce((a, b) => a + (b.qemu.durationMs ?? 0) / 1000, 0)),
  fromScratchSeconds: Number(readText(join(cache, 'from-scratch-seconds')).trim()) || null,
};
writeFileSync(join(resultsDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

const mib = (b) => (b / 1048576).toFixed(1);
const span = (r, k, f) => (REPEATS > 1 ? ` (${f(r.min[k])}–${f(r.max[k])})` : '');
const int = (x) => String(Math.round(x));
const num = (x) => (Number.isInteger(x) ? String(x) : x.toFixed(1));
const pct = (r) => { const d = (r.squashfsBytes / byId.unsorted.squashfsBytes - 1) * 100; return r.id === 'unsorted' ? '—' : `${d >= 0 ? '+' : ''}${d.toFixed(2)}%`; };
const header = '| layout | reads | MiB read | seeks | far seeks | seek distance (MiB) | loopback (bytes) | vs unsorted | CD 52x est. (s) | lower bound (s) | CD 24x est. (s) |';
const table = [header, '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.label} | ${int(r.reads)} | ${mib(r.bytes)}${span(r, 'bytes', mib)} | ${num(r.seeks)}${span(r, 'seeks', int)} | ${num(r.farSeeks)}${span(r, 'farSeeks', int)} | ${mib(r.seekDistance)} | ${r.squashfsBytes} | ${pct(r)} | ${sec(r.totalMs)}${span(r, 'totalMs', sec)} | ${sec(r.lowerBoundMs)} | ${r.devices['cd24-clv'] ? sec(r.devices['cd24-clv'].totalMs) : '-'} |`)].join('\n');
const limitText = (c) => `≤ ${c.limit}`;
const acceptanceTable = acceptance.length === 0 ? '' : ['| criterion (issue 10) | measured (means) | ratio | worst boot pairing | target | verdict |',
  '|---|---:|---:|---:|---:|---|',
  ...acceptance.map((c) => `| ${c.criterion} | ${c.detail} | ${c.value} | ${c.worstBootValue ?? '—'} | ${limitText(c)} | ${c.pass ? 'PASS' : '**FAIL**'}${c.worstBootPass === false && c.pass ? ' (not in every boot)' : ''} |`)].join('\n');
const oi = results.inputs.optimized;
const bi = results.inputs.blocktrace;
const verifyText = (v) => (v ? `exit ${v.exitCode}${v.checked !== undefined ? `, ${v.checked} files checked` : ''}${v.offenders !== undefined ? `, ${v.offenders} out of order` : ''}${Object.entries(v).filter(([k]) => !['exitCode', 'checked', 'offenders', 'stderr', 'ok'].includes(k)).map(([k, x]) => `, ${k} ${typeof x === 'object' ? JSON.stringify(x) : x}`).join('')}` : '');
const optimizerBullets = !oi ? '- The layout optimizer (`bootprof tune`, `sort --device/--actions`) was not in this build of bootprof: its variants were not built.' : [
  `- optimized: ${REPEATS} unsorted boots' module logs, \`--device ${OPT_DEVICE}\`; sort file ${oi.sortLines} lines, action file: ${oi.actionFiles} files${oi.actionFiles ? ` (${Object.keys(oi.actionKinds).map((k) => `\`${k}\``).join(', ')})` : ''}; tune's options: \`${oi.tuneOptions || '(none)'}\` (block size ${byId.optimized.squashfsBlockSize}); \`bootprof verify --actions\`: ${verifyText(oi.verify)}.`,
  ...(has('optimized-ra') ? [`- optimized + readahead: ${results.inputs.optimizedReadahead.ranges} ranges, ${mib(results.inputs.optimizedReadahead.bytes)} MiB listed (readahead --ranges on the optimized image, all the unsorted boots' file events).`] : []),
  ...(bi ? [`- qemu trace only: sort file ${bi.sortLines} lines, action file: ${bi.actionFiles} files${bi.actionFiles ? ` (${Object.keys(bi.actionKinds).map((k) => `\`${k}\``).join(', ')})` : ''}; tune's options: \`${bi.tuneOptions || '(none)'}\` (block size ${byId.blocktrace.squashfsBlockSize}); \`bootprof verify --actions\`: ${verifyText(bi.verify)}.`] : []),
].join('\n');
/** tune's prediction for its winner next to what the variant's boots measured (same drive model). */
function predictedVsMeasured(id, label) {
  const w = results.inputs[id === 'optimized' ? 'optimized' : 'blocktrace']?.tune?.winner?.predicted;
  const r = byId[id];
  if (!w || !r) return [];
  return [`- ${label}: tune predicted ${w.seconds.toFixed(2)} s, ${mib(w.bytesRead)} MiB read, ${num(w.farSeeks)} far seeks and a ${mib(w.squashfsBytes)} MiB loopback; the boots measured ${sec(r.totalMs)} s, ${mib(r.bytes)} MiB, ${num(r.farSeeks)} far seeks, and mksquashfs wrote ${mib(r.squashfsBytes)} MiB.`];
}
/** Where the far jumps of a readahead variant's boots land, from the raw trace. */
function jumpsText(id) {
  const js = byId[id]?.boots.map((b) => b.farJumps).filter(Boolean) ?? [];
  if (js.length === 0) return [];
  const avg = (k) => num(round(js.reduce((a, j) => a + j[k], 0) / js.length));
  return [`- ${byId[id].label}, raw trace: ${avg('total')} far jumps per boot: ${avg('iso')} to the ISO's own structures (outside the loopback), ${avg('readahead')} into the readahead ranges (the initramfs's sweep), ${avg('loopback')} elsewhere in the loopback (reads the sweep did not cover).`];
}
const diagnosticBullets = [...predictedVsMeasured('optimized', 'optimized'), ...predictedVsMeasured('blocktrace', 'qemu trace only'),
  ...jumpsText('optimized-ra'), ...jumpsText('sorted-ra')].join('\n');
const acceptanceSection = acceptance.length === 0 ? '' : `## Issue 10's acceptance, side by side in this run

Ratios of the means over the boots; "worst boot pairing" divides this variant's worst boot by the other's best.
Far seeks are jumps of 256 KiB or more either way (what a CD drive cannot read through); the time is
\`bootprof simulate\`'s CD 52x (cd52-cav) estimate of the measured trace.

${acceptanceTable}

${optimizerBullets}
${diagnosticBullets}
`;

const allBoots = rows.flatMap((r) => r.boots);
const bootCount = allBoots.length;
const bootSeconds = allBoots.reduce((a, b) => a + (b.qemu.durationMs ?? 0) / 1000, 0);
const body = `${table}

- seeks: reads the simulated drive (CD 52x) must position its head for (not served from its buffer or
  by streaming on); far seeks: those whose jump is 256 KiB or more either way; seek distance: sum of the jumps.
- loopback: the squashfs file's size; vs unsorted: its change against the unsorted build (-b 131072).
- lower bound: the same bytes read in one sweep on the same drive model (no seeks).
- Profile: ${results.inputs.moduleEvents} module events (${results.inputs.moduleDropped} dropped) on the first unsorted boot,
  ${results.inputs.filesListed} files first accessed; the seed's sort file has ${seedLines} lines, bootprof's old recipe
  ${sortLines}${verify ? ` (\`bootprof verify\`: ${verify.checked.length} files checked, ${verify.offenders.length} out of order)` : ''}; its readahead list has ${ranges.length} ranges, ${mib(results.inputs.readaheadBytes)} MiB.
- bootprof's old recipe vs the seed's: seeks ${num(byId.sorted.seeks)} vs ${num(byId.seed.seeks)}
  (${verdicts.sortBeatsSeedOnSeeks ? 'fewer' : 'NOT fewer'}), bytes ${mib(byId.sorted.bytes)} vs ${mib(byId.seed.bytes)} MiB
  (${verdicts.sortBeatsSeedOnBytes ? 'fewer' : 'NOT fewer'}); old sort + readahead: ${verdicts.readaheadVsOwnBound}x its own lower bound.

${acceptanceSection}
## Reading the figures

- The seed's recipe and bootprof's old recipe both write the profile in first-access order, so they
  start the same. The seed's list also holds ${seedDirs.length} directories, and mksquashfs hands a
  directory's priority to every unlisted file below it${seedUsr ? `: at line ${seedUsr.line} (\`usr\`) the rest of
  /usr is placed ahead of every file the list names after that line` : ''}. The profile is split in two and its
  second part lands at the end of the squashfs, next to the inode and directory tables: more bytes
  (fragment blocks shared with unlisted files) and a few long seeks, but each part is still in
  access order, which is why the margin is small.
- Neither removes the seeks inside the profile's region: the next boot reads the same files in
  another interleaving (systemd starts units in parallel), reads only part of large files, and
  mksquashfs writes the fragment blocks that hold small files after the large files that follow
  them in the sort order. Reading the profile's ranges and the tables in one sweep first
  (old sort + readahead) removes those: ${num(byId['sorted-ra'].seeks)} seeks are left.
- The readahead lists are built from the module's file events only (open, exec, read, fault): its
  sqread block events are offsets in the image the profile was taken on, and mapped through another
  image they would name unrelated files.
- The optimizer's variants are built from the unsorted boots only and measured on their own later
  boot: no boot of a layout is used to build that layout.

Layouts:
${rows.map((r) => `- **${r.label}**: ${r.what}.${r.mksquashfs ? ` Built with \`${r.mksquashfs.replace(/^mksquashfs /, 'mksquashfs ')}\`.` : ''}`).join('\n')}

The seed's recipe, as run (seed: \`perl -MMDK::Common -e 'print map_index { (32767 - $::i) . " $_" } grep
{ !m,^/(?:dev|proc|sys|live/distrib), } uniq(<>)'\`), changed only so mksquashfs 4.5 accepts it and can
match anything: MDK::Common's \`uniq\`/\`map_index\` written out (not in Debian); fields swapped to
\`path priority\` with the newline after the priority; the leading \`/\` removed (mksquashfs looks
absolute paths up on the build host and ignores them); the line for \`/\` dropped (an empty path is
fatal). Directory entries and everything else are kept.

## Reproduce

\`\`\`
sudo scripts/bench-real/run        # Debian bookworm host, node >= 20; installs debootstrap, qemu, ...
\`\`\`

It caches the debootstrap, the ISOs and the boots under \`work-cache/bench-real/\`, uses KVM when
\`/dev/kvm\` works (a guest that stays silent for 20 s under KVM is booted again under TCG, and so
are the boots after it; \`BENCH_ACCEL=tcg\` forces software emulation); these boots ran under qemu ${rows[0].boots[0].qemu.accel === 'kvm' ? 'KVM' : 'TCG (software emulation)'} on ${os.cpus().length} cores. ${results.fromScratchSeconds ? `From an empty cache it took
${Math.round(results.fromScratchSeconds / 60)} min (${results.fromScratchSeconds} s); this` : 'This'} invocation took ${results.elapsedSeconds} s (${Math.round(results.elapsedSeconds / 60)} min; boots found in the cache are not booted again). The ${bootCount} boots in the table took ${Math.round(bootSeconds / 60)} min of qemu time (${Math.round(bootSeconds / bootCount)} s each on average). The HTML report, \`bench/results/report.html\`, replays the first unsorted boot's file events onto the
${has('optimized') ? 'unsorted, seed, sorted and optimized' : 'unsorted, seed and sorted'} images on every device model (a simulation; the table above is measured); the raw figures are in
\`bench/results/results.json\`; the captured profile is in \`profiles/debian-bookworm-live/\`.
`;

const md = `# Real-distribution benchmark

Generated by \`scripts/bench-real/run\` (${results.generatedAt.slice(0, 10)}): a Debian ${opt.suite} root
(debootstrap minbase + ${results.system.packages.length} packages: ${results.system.packages.join(', ')}), packed as a
${opt.comp} squashfs inside an ISO9660 live CD, booted under qemu with Debian's kernel ${opt.kernel} into
systemd multi-user, then a first-use workload (getty autologin, ssh login over loopback, service
restarts, python3, vi, tar, perl, ...). Each layout is booted for real with the same workload and its
CD reads are taken from qemu's block trace (\`blk_co_preadv\`), then costed by \`bootprof simulate\`.
Each layout was booted ${REPEATS} time(s): figures are the mean, (min–max) over the boots.

${body}`;
writeFileSync(join(resultsDir, 'RESULTS.md'), md);

// The README's Results section: the same text, one heading level down, under its own introduction.
if (opt.readme && existsSync(opt.readme)) {
  const readme = readFileSync(opt.readme, 'utf8');
  const title = '## Results: a real Debian live boot\n';
  const start = readme.indexOf(title);
  const next = start < 0 ? -1 : readme.indexOf('\n## ', start + title.length);
  if (start < 0 || next < 0) {
    process.stderr.write(`results.mjs: ${opt.readme} has no "${title.trim()}" section followed by another: not updated\n`);
  } else {
    const section = `${title}
\`scripts/bench-real/run\` (\`npm run bench:real\`, as root) debootstraps Debian ${opt.suite} (systemd,
udev, dbus, openssh, cron, python3, ... : ${results.system.packages.length} packages over minbase), packs it as an ${opt.comp} squashfs in an
ISO9660 live CD, boots it under qemu with Debian's ${(opt.kernel ?? '').replace(/^(\d+\.\d+).*/, '$1')} kernel and bootprof.ko into systemd
multi-user, runs a first-use workload (autologin, ssh login, service restarts, python3, vi, tar,
perl, ...), then builds and boots each layout below with the same workload. Figures are each
layout's own measured qemu CD trace (mean of ${REPEATS} boots, min–max in brackets), costed by \`bootprof simulate\`. Full text:
bench/results/RESULTS.md; report: bench/results/report.html.

${body.replace(/^## /gm, '### ')}`;
    writeFileSync(opt.readme, `${readme.slice(0, start)}${section}\n${readme.slice(next + 1)}`);
  }
}

// The bundled profile's image manifest: the whole Layout (every file, so that simulated layouts can
// move the files the profile did not read too), gzip-compressed; bootprof reads it as it is.
const layoutPath = join(cache, 'unsorted', 'layout.json');
const layoutText = readFileSync(layoutPath, 'utf8');
const manifestGz = gzipSync(layoutText, { level: 9 });
writeFileSync(join(profileDir, 'image-manifest.json.gz'), manifestGz);
rmSync(join(profileDir, 'image-manifest.json'), { force: true });
const manifestNote = `the full Layout of the unsorted image (${layoutText.length} bytes, ${manifestGz.length} gzip-compressed)`;
writeFileSync(join(profileDir, 'README.md'), `# ${profileDir.split('/').at(-1)}

A real boot profile, captured by \`scripts/bench-real/run\` with bootprof.ko: Debian ${opt.suite} live
(${results.system.packages.join(', ')}) booted under qemu into systemd multi-user, then a first-use
workload (scripts/bench-real/guest/bench-workload).

- The module's raw events file (${results.inputs.moduleEvents} events, ${results.inputs.moduleDropped} dropped; ~3 MB) is not shipped: the
  script keeps it in work-cache/bench-real/unsorted/boot/guest/events.tsv.
- \`profile.tsv\`: the file-level profile: \`bootprof map --image\` of the module's file events (open, exec, read, fault; the sqread block reads left out) through the image they were taken on: per file, first access, bytes and ranges read. Every command reads it as a trace; it is the one to replay onto other layouts.
- \`files.list\`: the module's first-access list (a drop-in bootlog.list), ${results.inputs.filesListed} paths.
- \`stats.txt\`: the module's counters at the end of the boot.
- \`image-manifest.json.gz\`: ${manifestNote}; \`bootprof\` reads it wherever it takes an image (\`--image\`).
`);

process.stdout.write(`\n${table}\n\n`);
process.stdout.write(`old sort beats seed on seeks: ${verdicts.sortBeatsSeedOnSeeks}, on bytes: ${verdicts.sortBeatsSeedOnBytes}; ` +
  `old sort+readahead = ${verdicts.readaheadVsOwnBound}x own lower bound, ${verdicts.readaheadVsSmallestBound}x smallest\n`);
if (acceptance.length === 0) {
  process.stdout.write('issue 10 acceptance: not measured (no optimizer variants in this run)\n');
} else {
  process.stdout.write('\nissue 10 acceptance (ratios of means; worst boot pairing in brackets):\n');
  for (const c of acceptance) {
    process.stdout.write(`  ${c.pass ? 'PASS' : 'FAIL'}  ${c.criterion}: ${c.value} (${c.worstBootValue ?? '-'}) ${limitText(c)}   [${c.detail}]\n`);
  }
}

/** The loopback's ranges of a readahead.ranges file ("offset length"); "medium" lines are left out. */
function readRanges(p) {
  return readText(p).split('\n').filter((l) => /^\d+ \d+$/.test(l)).map((l) => l.split(' ').map(Number));
}

/** Every byte a readahead.ranges file lists: the loopback's ranges and the medium's windows. */
function listedBytes(p) {
  return readText(p).split('\n').filter((l) => /^-?\d+ \d+( medium)?$/.test(l)).reduce((n, l) => n + Number(l.split(' ')[1]), 0);
}

function sec(ms) {
  return (ms / 1000).toFixed(2);
}

/** The block size in a squashfs 4.0 superblock (u32 at byte 12), or null. */
function superblockBlockSize(path) {
  try {
    const fd = openSync(path, 'r');
    const buf = Buffer.alloc(16);
    readSync(fd, buf, 0, 16, 0);
    closeSync(fd);
    return buf.readUInt32LE(0) === 0x73717368 ? buf.readUInt32LE(12) : null;
  } catch {
    return null;
  }
}

function round(x, digits = 1) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

