#!/usr/bin/env node
// bench-live-build/results.mjs CACHE TUNE_OPTIONS SECONDS: the two boots' figures (bootprof simulate
// on each boot's own qemu trace, and the raw trace's jumps) -> bench/results/live-build.{json,md}.
import { readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyse } from './after-sweep.mjs';

const [cache, tune, seconds] = process.argv.slice(2);
const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const text = (p) => (existsSync(p) ? readFileSync(p, 'utf8') : '');

/** Far jumps (>= 256 KiB either way) by target, and the sweep's before / inside / after (after-sweep.mjs). */
function shape(dir, rangesText) {
  const layout = JSON.parse(readFileSync(join(dir, 'layout.json'), 'utf8'));
  const { rows, summary } = analyse(layout, text(join(dir, 'boot/qemu-trace.log')), rangesText);
  const far = rows.filter((x) => x.far);
  return {
    cdReads: summary.cdReads,
    farJumps: far.length,
    farJumpsByTarget: Object.fromEntries(['iso', 'ranges', 'loopback'].map((k) => [k, far.filter((x) => x.where === k).length])),
    sweep: summary.sweep === null ? null : { ...summary.sweep, before: summary.before, inside: summary.sweepSeeks, after: summary.after },
    afterReads: rows.filter((x) => x.phase === 'after').map(({ i, offset, length, jump, where, what }) => ({ i, offset, length, jump, where, what })),
  };
}

function variant(name) {
  const dir = join(cache, name);
  const sim = JSON.parse(readFileSync(join(dir, 'simulate.json'), 'utf8'));
  const measured = sim.scenarios.find((s) => s.layout.startsWith('measured')) ?? sim.scenarios[0];
  const rangesText = text(join(dir, 'readahead.ranges'));
  const lines = rangesText.trim().split('\n').filter(Boolean).map((l) => l.split(' '));
  const consoleText = text(join(dir, 'boot/console.log'));
  const capture = JSON.parse(text(join(dir, 'boot.json')) || '{}');
  return {
    name,
    squashfsBytes: statSync(join(dir, 'filesystem.squashfs')).size,
    readaheadRanges: lines.length,
    readaheadBytes: lines.reduce((n, l) => n + Number(l[1]), 0),
    readerLine: /bootprof-readahead: [^\r\n]*/.exec(consoleText)?.[0] ?? null,
    bootSeconds: capture.durationMs ? capture.durationMs / 1000 : null,
    accel: capture.accel ?? null,
    devices: measured.devices,
    raw: shape(dir, rangesText),
  };
}

// profiling: the unsorted image's profiling boot (readahead off on the CD), the profile's source
const v = ['unsorted', 'optimized', 'optimized2', 'profiling'].filter((n) => existsSync(join(cache, n, 'simulate.json'))).map(variant);
const optimized = v.filter((x) => x.name.startsWith('optimized'));
const sort = JSON.parse(text(join(cache, 'sort.json')) || '{}');
const rebuild = text(join(cache, 'rebuild-mode')).trim() || 'lb';
const out = { tune: tune ?? null, rebuild, sort, verifyExit: Number(text(join(cache, 'verify.rc')).trim()), seconds: Number(seconds), variants: v };
writeFileSync(join(repo, 'bench/results/live-build.json'), `${JSON.stringify(out, null, 2)}\n`);

const mib = (n) => (n / 1048576).toFixed(1);
/** Minutes between the first and the last live-build time stamp of a build log. */
function buildMinutes(log) {
  const t = [...text(join(cache, log)).matchAll(/^\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\]/gm)].map((m) => Date.parse(`${m[1]}Z`));
  return t.length < 2 ? null : Math.round((t[t.length - 1] - t[0]) / 60000);
}
/** The file paths of a bootprof-profile TSV. */
const profilePaths = (p) => new Set(text(p).split('\n').slice(1).map((l) => l.split('\t')).filter((f) => f[1] === 'file').map((f) => f[4]));
const profiled = profilePaths(join(cache, 'profile.tsv'));
const evidence = profilePaths(join(cache, 'profile-unsorted-evidence.tsv'));
const missed = [...profiled].filter((p) => !evidence.has(p)).length;
const minutes = { first: buildMinutes('build-unsorted.log'), rebuild: buildMinutes('build-optimized.log') };
const d = (x, k) => x.devices['cd52-cav']?.[k];
const rows = v.map((x) => `| ${x.name} | ${d(x, 'reads')} | ${mib(d(x, 'bytes'))} | ${d(x, 'seeks')} | ${d(x, 'farSeeks')} | ${(d(x, 'totalMs') / 1000).toFixed(2)} | ${((x.devices['cd24-clv']?.totalMs ?? NaN) / 1000).toFixed(2)} | ${x.raw.farJumps} | ${x.squashfsBytes} |`);
const md = `# bench-live-build: live-build ISO, unsorted vs sorted + readahead

A Debian bookworm live ISO built by live-build 20230502 from Debian's packages (live-boot, systemd,
openssh-server, python3), booted under qemu (${v[0].accel ?? '?'}, 1536 MiB) from Debian's kernel and
the ISO's own initramfs (\`boot=live\`), with bootprof's initramfs-tools hook and live-boot component
in it. A unit in the image runs a small workload once multi-user is reached and powers off.

- The profile: a *profiling boot* of the unsorted image (\`bootprof.profiling=1\`: the live-boot
  component turns the CD's readahead off before live-boot sets up the loop device), its qemu CD
  trace mapped with \`bootprof map --block-owners all\`: ${sort.distinctPaths ?? '?'} paths.
- The rebuild: ${rebuild === 'lb' ? '\`lb clean --binary\`, \`lb chroot_includes_after_packages --force\` (the action file through \`config/includes.chroot\`), \`lb binary\` with \`config/rootfs/squashfs.sort\` and \`MKSQUASHFS_OPTIONS\` (tune\'s options \`' + tune + '\` and \`-action-file\`); the binary hook \`9000-bootprof-readahead.hook.binary\` wrote \`live/readahead.ranges\` (\`readahead --ranges --on-medium --gap-kb 1024\`). The chroot stage is not run again.' : 'LB_REBUILD=mksquashfs: not a second lb build but the same mksquashfs command live-build runs, the binary hook\'s readahead command, and xorriso replacing /live/filesystem.squashfs in the live-build ISO.'}
- Figures: each boot's own qemu trace costed by \`bootprof simulate\` (CD 52x CAV; CD 24x CLV total
  alongside); raw far jumps: >= 256 KiB either way in the trace; the sweep and what comes after it:
  \`scripts/bench-live-build/after-sweep.mjs\` (every CD read mapped to its squashfs file or table,
  or ISO structure or file).

| boot | reads | MiB read | seeks | far seeks | CD 52x est. (s) | CD 24x est. (s) | raw far jumps | loopback (bytes) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

${optimized.map((o) => `- ${o.name}: the reader in the initramfs: \`${o.readerLine ?? 'no line on the console'}\`; the list: ${o.readaheadRanges} lines, ${mib(o.readaheadBytes)} MiB. ${o.raw.sweep ? `The sweep: CD reads ${o.raw.sweep.first} to ${o.raw.sweep.last} of ${o.raw.cdReads} (${mib(o.raw.sweep.bytes)} MiB), ${o.raw.sweep.inside.seeks} seeks inside it (${o.raw.sweep.inside.far} far; ${o.raw.sweep.backwardJumps} backward); before it ${o.raw.sweep.before.seeks} seeks (${o.raw.sweep.before.far} far: the kernel's and udev's probes of the CD and live-boot finding the medium, before the reader can run); **after it ${o.raw.sweep.after.seeks} seeks (${o.raw.sweep.after.far} far) in ${o.raw.sweep.after.reads} reads**${o.raw.sweep.after.reads > 0 ? `, far ones by target ${JSON.stringify(o.raw.sweep.after.farByWhere)}` : ''}` : 'The sweep: not found in the raw trace'}.`).join('\n')}
- Far jumps in each whole trace by target (iso: outside the squashfs; ranges: inside the list's ranges; loopback: the rest of the squashfs): ${v.map((x) => `${x.name} ${JSON.stringify(x.raw.farJumpsByTarget)}`).join('; ')}.
- optimized2: the optimized image booted a second time${v.find((x) => x.name === 'optimized2') && JSON.stringify(v.find((x) => x.name === 'optimized2').raw.afterReads) === JSON.stringify(v.find((x) => x.name === 'optimized').raw.afterReads) && v.find((x) => x.name === 'optimized2').raw.cdReads === v.find((x) => x.name === 'optimized').raw.cdReads ? ' (the same number of CD reads, the same after the sweep)' : ''}.
- profiling: the profile's boot, with the CD's readahead off (every 4 KiB page its own request): its row is there for the record, not to compare.
${evidence.size > 0 ? `- Why the profiling boot: the ordinary unsorted boot's trace mapped with map's default (\`--block-owners evidence\`, the last round's profile) names ${evidence.size} files and misses ${missed} of the ${profiled.size} the profiling boot names: with readahead on, a file the page cache's readahead ran over has no CD read of its own when the boot opens it; on a rebuilt image those files lie outside the ranges: the likely source of the last round's far jumps into the loopback after the sweep (that round's list came from such a profile; with the profiling boot's, none are left).\n` : ''}- The demo's bundled profile (profiles/debian-bookworm-live) is kept: it is bootprof.ko's record of a
  Debian live boot (every open, exec, read and fault, by path, in first-access order, 893 files),
  with a longer first-use workload; this run's profile is a block trace, which names every file whose
  blocks were read, plus the other files in each fragment block read (${sort.distinctPaths ?? '?'} paths, not a
  record of what was opened), and its workload is a few commands. It is the better profile for
  this image only.
- Build times here (2 cores shared with other work; mksquashfs under \`nice\`): the first \`lb build\` ${minutes.first ?? '?'} min, the rebuild ${minutes.rebuild ?? '?'} min (nearly all of it mksquashfs with xz and \`-Xbcj x86\`).
- sort: ${sort.written ?? '?'} files in the sort file, ${sort.actions?.written ?? '?'} in the action file; \`bootprof verify --actions\` exit ${out.verifyExit}.
${Number(seconds) > 0 ? `- This run took ${seconds} s (cached builds and boots are reused).\n` : ''}
Reproduce: \`sudo scripts/bench-live-build/run\` (Debian bookworm; installs live-build; network for the packages).
`;
writeFileSync(join(repo, 'bench/results/live-build.md'), md);
process.stderr.write(md);
