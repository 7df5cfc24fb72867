#!/usr/bin/env node
// bench-real, last step: gather each variant's measured figures (from `bootprof simulate --json` on the
// variant's own qemu block trace), write bench/results/results.json and RESULTS.md, the bundled
// profile's manifest and README, and print the table.
import { existsSync, lstatSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import os from 'node:os';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    cache: { type: 'string' }, results: { type: 'string' }, 'profile-dir': { type: 'string' },
    kernel: { type: 'string' }, suite: { type: 'string' }, packages: { type: 'string' }, comp: { type: 'string' },
    elapsed: { type: 'string' }, repeats: { type: 'string' },
  },
});
const cache = opt.cache;
const resultsDir = opt.results;
const profileDir = opt['profile-dir'];
if (!cache || !resultsDir || !profileDir) throw new Error('results.mjs: --cache, --results and --profile-dir are required');

const VARIANTS = [
  { id: 'unsorted', label: 'unsorted', what: 'mksquashfs without a sort file' },
  { id: 'seed', label: "seed's recipe", what: "the seed's perl one-liner on the module's files list (path/priority swapped, leading / removed)" },
  { id: 'sorted', label: 'bootprof sort', what: 'bootprof sort --root on the unsorted boot\'s module log' },
  { id: 'sorted-ra', label: 'bootprof sort + readahead', what: 'the sorted image plus /live/readahead.ranges read by the initramfs before mounting the root' },
];
const DEVICES = ['cd52-cav', 'cd24-clv'];

const readText = (p) => (existsSync(p) ? readFileSync(p, 'utf8') : '');
const lineCount = (p) => readText(p).split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
const stats = (p) => Object.fromEntries(readText(p).split('\n').map((l) => l.split(' ')).filter((c) => c.length === 2).map(([k, v]) => [k, Number(v)]));

const REPEATS = Math.max(1, Number(opt.repeats ?? 1));
const METRICS = ['reads', 'bytes', 'seeks', 'seekDistance', 'seekMs', 'rotationMs', 'transferMs', 'totalMs', 'lowerBoundMs'];

/** One boot of one variant: its measured figures per device and what the guest reported. */
function bootFigures(dir) {
  const sim = JSON.parse(readFileSync(join(dir, 'simulate.json'), 'utf8'));
  const measured = sim.scenarios.find((s) => s.layout.startsWith('measured'));
  if (!measured) throw new Error(`${dir}: simulate.json has no measured scenario`);
  const guest = join(dir, 'guest');
  const devices = {};
  for (const d of DEVICES) {
    const m = measured.devices[d];
    if (m) devices[d] = Object.fromEntries(METRICS.map((k) => [k, round(m[k])]));
  }
  const uptime = Number(readText(join(guest, 'uptime.txt')).split(' ')[0]);
  return {
    devices,
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
  for (let n = 1; n <= REPEATS; n++) boots.push(bootFigures(join(dir, n === 1 ? 'boot' : `boot-${n}`)));
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
    isoBytes: statSync(join(dir, 'live.iso')).size,
    ...devices['cd52-cav'],
    devices,
    boots,
  });
}

const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
const minBound = Math.min(...rows.map((r) => r.lowerBoundMs));
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

const sortLines = lineCount(join(cache, 'bootprof.sort'));
const seedLines = lineCount(join(cache, 'seed.sort'));
const rangesText = readText(join(cache, 'readahead.ranges'));
const ranges = rangesText.split('\n').filter((l) => /^\d+ \d+/.test(l)).map((l) => l.split(' ').map(Number));
// The seed's sort file lists directories too: each hands its priority to the unlisted files below it.
const seedDirs = readText(join(cache, 'seed.sort')).split('\n').map((l, i) => ({ line: i + 1, path: l.replace(/ -?\d+$/, '') }))
  .filter((e) => e.path !== '' && (() => { try { return lstatSync(join(cache, 'root', e.path)).isDirectory(); } catch { return false; } })());
const seedUsr = seedDirs.find((d) => d.path === 'usr');
const verify = JSON.parse(readText(join(cache, 'sorted', 'verify.json')) || 'null');
const profileStats = stats(join(cache, 'unsorted', 'boot', 'guest', 'stats.txt'));

const results = {
  generatedBy: 'scripts/bench-real/run',
  generatedAt: new Date().toISOString(),
  system: {
    distribution: `Debian ${opt.suite} (debootstrap --variant=minbase)`,
    packages: (opt.packages ?? '').split(','),
    kernel: opt.kernel,
    squashfs: { compressor: opt.comp, blockSize: 131072 },
    workload: 'systemd to multi-user, getty autologin on ttyS0, scripts/bench-real/guest/bench-workload as user bench',
  },
  inputs: {
    moduleEvents: profileStats.logged ?? null,
    moduleDropped: profileStats.dropped ?? null,
    filesListed: lineCount(join(cache, 'unsorted', 'boot', 'guest', 'files.list')),
    seedSortLines: seedLines,
    bootprofSortLines: sortLines,
    readaheadRanges: ranges.length,
    readaheadBytes: ranges.reduce((a, r) => a + (r[1] ?? 0), 0),
    verifySorted: verify === null ? null : { checked: verify.checked.length, offenders: verify.offenders.length, missing: verify.missing.length, skipped: verify.skipped.length },
  },
  bootsPerVariant: REPEATS,
  metric: 'Figures are the mean over the variant\'s boots (min and max alongside). Every figure is measured on the variant\'s own boot: qemu\'s blk_co_preadv trace of the CD, costed by bootprof simulate (device cd52-cav unless named). seeks = reads that do not start where the previous one ended; lowerBoundMs = the same bytes read in one sweep.',
  variants: rows,
  verdicts,
  elapsedSeconds: Number(opt.elapsed ?? 0),
  fromScratchSeconds: Number(readText(join(cache, 'from-scratch-seconds')).trim()) || null,
};
writeFileSync(join(resultsDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

const mib = (b) => (b / 1048576).toFixed(1);
const sec = (ms) => (ms / 1000).toFixed(2);
const span = (r, k, f) => (REPEATS > 1 ? ` (${f(r.min[k])}–${f(r.max[k])})` : '');
const int = (x) => String(Math.round(x));
const header = '| layout | reads | MiB read | seeks | seek distance (MiB) | CD 52x est. (s) | lower bound (s) | CD 24x est. (s) |';
const table = [header, '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.label} | ${int(r.reads)} | ${mib(r.bytes)}${span(r, 'bytes', mib)} | ${int(r.seeks)}${span(r, 'seeks', int)} | ${mib(r.seekDistance)} | ${sec(r.totalMs)}${span(r, 'totalMs', sec)} | ${sec(r.lowerBoundMs)} | ${r.devices['cd24-clv'] ? sec(r.devices['cd24-clv'].totalMs) : '-'} |`)].join('\n');

const md = `# Real-distribution benchmark

Generated by \`scripts/bench-real/run\` (${results.generatedAt.slice(0, 10)}): a Debian ${opt.suite} root
(debootstrap minbase + ${results.system.packages.length} packages: ${results.system.packages.join(', ')}), packed as a
${opt.comp} squashfs inside an ISO9660 live CD, booted under qemu with Debian's kernel ${opt.kernel} into
systemd multi-user, then a first-use workload (getty autologin, ssh login over loopback, service
restarts, python3, vi, tar, perl, ...). Each layout is booted for real with the same workload and its
CD reads are taken from qemu's block trace (\`blk_co_preadv\`), then costed by \`bootprof simulate\`.
Each layout was booted ${REPEATS} time(s): figures are the mean, (min–max) over the boots.

${table}

- seeks: reads that do not start where the previous one ended; seek distance: sum of the jumps.
- lower bound: the same bytes read in one sweep on the same drive model (no seeks).
- Profile: ${results.inputs.moduleEvents} module events (${results.inputs.moduleDropped} dropped),
  ${results.inputs.filesListed} files first accessed; the seed's sort file has ${seedLines} lines, bootprof's
  ${sortLines}${verify ? ` (\`bootprof verify\`: ${verify.checked.length} files checked, ${verify.offenders.length} out of order)` : ''}; the readahead list has ${ranges.length} ranges, ${mib(results.inputs.readaheadBytes)} MiB.
- bootprof sort vs the seed's recipe: seeks ${int(byId.sorted.seeks)} vs ${int(byId.seed.seeks)}
  (${verdicts.sortBeatsSeedOnSeeks ? 'fewer' : 'NOT fewer'}), bytes ${mib(byId.sorted.bytes)} vs ${mib(byId.seed.bytes)} MiB
  (${verdicts.sortBeatsSeedOnBytes ? 'fewer' : 'NOT fewer'}).
- sort + readahead: ${verdicts.readaheadVsOwnBound}x its own lower bound, ${verdicts.readaheadVsSmallestBound}x the smallest lower bound
  of the four (${sec(minBound)} s).

## Reading the figures

- Both sort files write the profile in first-access order, so bootprof's sort and the seed's recipe
  start the same. The seed's list also holds ${seedDirs.length} directories, and mksquashfs hands a
  directory's priority to every unlisted file below it${seedUsr ? `: at line ${seedUsr.line} (\`usr\`) the rest of
  /usr is placed ahead of every file the list names after that line` : ''}. The profile is split in two and its
  second part lands at the end of the squashfs, next to the inode and directory tables: more bytes
  (fragment blocks shared with unlisted files) and a few long seeks, but each part is still in
  access order, which is why the margin is small.
- Neither sort removes the seeks inside the profile's region: the next boot reads the same files in
  another interleaving (systemd starts units in parallel), reads only part of large files, and
  mksquashfs writes the fragment blocks that hold small files after the large files that follow
  them in the sort order. Reading the profile's ranges and the tables in one sweep first
  (sort + readahead) removes those: ${Math.round(byId['sorted-ra'].seeks)} seeks are left (the ISO's own directories at mount
  time, and files the profiled boot did not read).
- The readahead list is built from the module's file events only (open, exec, read, fault): its
  sqread block events are offsets in the image the profile was taken on, and mapped through the
  sorted image they would name unrelated files (a first run that did so read 38 MiB instead of 21).

Layouts:
${rows.map((r) => `- **${r.label}**: ${r.what}.`).join('\n')}

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
\`/dev/kvm\` works (\`BENCH_ACCEL=tcg\` forces software emulation). ${results.fromScratchSeconds ? `From an empty cache it took
${Math.round(results.fromScratchSeconds / 60)} min (${results.fromScratchSeconds} s) on ${os.cpus().length} cores with qemu ${rows[0].boots[0].qemu.accel === 'kvm' ? 'KVM' : 'TCG (software emulation)'}; ` : ''}this invocation took ${results.elapsedSeconds} s. The HTML report, \`bench/results/report.html\`, replays the unsorted boot's file events onto the
unsorted, seed and sorted images on every device model (a simulation; the table above is measured); the raw figures are in
\`bench/results/results.json\`; the captured profile is in \`profiles/debian-bookworm-live/\`.
`;
writeFileSync(join(resultsDir, 'RESULTS.md'), md);

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
process.stdout.write(`sort beats seed on seeks: ${verdicts.sortBeatsSeedOnSeeks}, on bytes: ${verdicts.sortBeatsSeedOnBytes}; ` +
  `sort+readahead = ${verdicts.readaheadVsOwnBound}x own lower bound, ${verdicts.readaheadVsSmallestBound}x smallest\n`);

function round(x, digits = 1) {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

