#!/usr/bin/env node
// bench-live-build/results.mjs CACHE TUNE_OPTIONS SECONDS: the two boots' figures (bootprof simulate
// on each boot's own qemu trace, and the raw trace's jumps) -> bench/results/live-build.{json,md}.
import { readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [cache, tune, seconds] = process.argv.slice(2);
const repo = join(dirname(fileURLToPath(import.meta.url)), '../..');
const text = (p) => (existsSync(p) ? readFileSync(p, 'utf8') : '');
const FAR = 256 * 1024;

/** The CD's reads in order (the device with the most bytes read). */
function cdReads(dir) {
  const reads = [];
  const bytes = new Map();
  for (const m of text(join(dir, 'boot/qemu-trace.log')).matchAll(/^(?:\d+@\d+\.\d+:)?blk_co_preadv blk (\S+) bs \S+ offset (\d+) bytes (\d+)/gm)) {
    reads.push({ dev: m[1], offset: Number(m[2]), length: Number(m[3]) });
    bytes.set(m[1], (bytes.get(m[1]) ?? 0) + Number(m[3]));
  }
  const cd = [...bytes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  return reads.filter((r) => r.dev === cd);
}

/**
 * The raw trace around the readahead: the far jumps (>= 256 KiB either way) before the sweep, the
 * sweep (the run of reads inside the readahead ranges that reaches the last range), and after it.
 */
function shape(dir, ranges) {
  const base = Number(text(join(dir, 'squashfs-lba')).trim()) * 2048;
  const size = statSync(join(dir, 'filesystem.squashfs')).size;
  const reads = cdReads(dir);
  const inRanges = (r) => ranges.some(([o, n]) => r.offset - base >= Math.floor(o / 4096) * 4096 && r.offset - base < o + n);
  const where = (r) => (r.offset < base || r.offset >= base + size ? 'iso' : inRanges(r) ? 'readahead' : 'loopback');
  const jumps = [];
  let end = 0;
  reads.forEach((r, i) => {
    if (Math.abs(r.offset - end) >= FAR) jumps.push({ i, to: where(r), offset: r.offset });
    end = r.offset + r.length;
  });
  let sweepEnd = -1;
  if (ranges.length > 0) {
    const last = ranges[ranges.length - 1];
    const lastEnd = base + last[0] + last[1];
    sweepEnd = reads.findIndex((r) => r.offset + r.length >= lastEnd - 4096 && r.offset < lastEnd);
  }
  const firstInRanges = ranges.length > 0 ? reads.findIndex(inRanges) : -1;
  return {
    cdReads: reads.length,
    farJumps: jumps.length,
    farJumpsByTarget: Object.fromEntries(['iso', 'readahead', 'loopback'].map((k) => [k, jumps.filter((j) => j.to === k).length])),
    sweep: sweepEnd < 0 ? null : {
      firstRead: firstInRanges,
      lastRead: sweepEnd,
      farJumpsBefore: jumps.filter((j) => j.i <= firstInRanges).length,
      farJumpsInside: jumps.filter((j) => j.i > firstInRanges && j.i <= sweepEnd).length,
      farJumpsAfter: jumps.filter((j) => j.i > sweepEnd).length,
      farJumpsAfterIntoLoopback: jumps.filter((j) => j.i > sweepEnd && j.to === 'loopback').length,
    },
  };
}

function variant(name) {
  const dir = join(cache, name);
  const sim = JSON.parse(readFileSync(join(dir, 'simulate.json'), 'utf8'));
  const measured = sim.scenarios.find((s) => s.layout.startsWith('measured')) ?? sim.scenarios[0];
  const lines = text(join(dir, 'readahead.ranges')).trim().split('\n').filter(Boolean).map((l) => l.split(' '));
  // loopback ranges only (lines ending in "medium" are windows of the CD device itself)
  const ranges = lines.filter((l) => l[2] !== 'medium').map((l) => [Number(l[0]), Number(l[1])]);
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
    raw: shape(dir, ranges),
  };
}

// probes: the optimized image with a list that also holds the udev/blkid probe windows (if booted)
const v = ['unsorted', 'optimized', 'probes'].filter((n) => existsSync(join(cache, n, 'simulate.json'))).map(variant);
const sort = JSON.parse(text(join(cache, 'sort.json')) || '{}');
const rebuild = text(join(cache, 'rebuild-mode')).trim() || 'lb';
const out = { tune: tune ?? null, rebuild, sort, verifyExit: Number(text(join(cache, 'verify.rc')).trim()), seconds: Number(seconds), variants: v };
writeFileSync(join(repo, 'bench/results/live-build.json'), `${JSON.stringify(out, null, 2)}\n`);

const mib = (n) => (n / 1048576).toFixed(1);
const d = (x, k) => x.devices['cd52-cav']?.[k];
const rows = v.map((x) => `| ${x.name} | ${d(x, 'reads')} | ${mib(d(x, 'bytes'))} | ${d(x, 'seeks')} | ${d(x, 'farSeeks')} | ${(d(x, 'totalMs') / 1000).toFixed(2)} | ${((x.devices['cd24-clv']?.totalMs ?? NaN) / 1000).toFixed(2)} | ${x.raw.farJumps} | ${x.squashfsBytes} |`);
const md = `# bench-live-build: live-build ISO, unsorted vs sorted + readahead

A Debian bookworm live ISO built by live-build 20230502 from Debian's packages (live-boot, systemd,
openssh-server, python3), booted under qemu (${v[0].accel ?? '?'}) from Debian's kernel and the
ISO's own initramfs (\`boot=live\`), with bootprof's initramfs-tools hook and live-boot component in
it. A unit in the image runs a small workload once multi-user is reached and powers off. The profile
is the unsorted boot's qemu CD trace (\`bootprof map\`); the rebuilt image has the sort file
(\`config/rootfs/squashfs.sort\`), the action file and tune's options (\`${tune}\`), and the binary
hook's \`live/readahead.ranges\`. ${rebuild === 'lb' ? 'Both images were built by lb build.' : 'The rebuilt image was not made by a second lb build (LB_REBUILD=mksquashfs): the same mksquashfs command live-build runs (-comp xz -no-progress, -sort, the action file, tune\'s options) on the unsorted image\'s tree, the binary hook\'s readahead command, and xorriso replacing /live/filesystem.squashfs in the live-build ISO; kernel and initramfs are the live-build ones.'} Figures: each boot's own qemu trace costed by \`bootprof simulate\`
(CD 52x CAV; CD 24x CLV total alongside); raw far jumps: >= 256 KiB either way in the trace.

| image | reads | MiB read | seeks | far seeks | CD 52x est. (s) | CD 24x est. (s) | raw far jumps | loopback (bytes) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}

${v.slice(1).map((o) => `- ${o.name}: the reader in the initramfs: \`${o.readerLine ?? 'no line on the console'}\`; the list: ${o.readaheadRanges} lines, ${mib(o.readaheadBytes)} MiB. The sweep in the raw trace: ${o.raw.sweep ? `reads ${o.raw.sweep.firstRead} to ${o.raw.sweep.lastRead} of ${o.raw.cdReads}; far jumps before it ${o.raw.sweep.farJumpsBefore}, inside it ${o.raw.sweep.farJumpsInside}, after it ${o.raw.sweep.farJumpsAfter} (${o.raw.sweep.farJumpsAfterIntoLoopback} into the loopback outside the ranges)` : 'not found'}. Far jumps by target: ${JSON.stringify(o.raw.farJumpsByTarget)}.`).join('\n')}
- unsorted: far jumps by target ${JSON.stringify(v[0].raw.farJumpsByTarget)}.
- probes (when present): the optimized image, its list made by \`readahead --ranges --image live.iso\` with the default \`--probe-windows udev\` (the medium's and the loop device's probe windows; \`medium\` lines read from /dev/sr0); its initramfs is the live-build one with /usr/bin/bootprof-readahead replaced by the current reader (unmkinitramfs, cpio, gzip): the live-build initramfs was made before the reader read \`medium\` lines (not scripted in run).
- sort: ${sort.written ?? '?'} files in the sort file, ${sort.actions?.written ?? '?'} in the action file; \`bootprof verify --actions\` exit ${out.verifyExit}.
${Number(seconds) > 0 ? `- This run took ${seconds} s (cached builds and boots are reused).\n` : ''}
Reproduce: \`sudo scripts/bench-live-build/run\` (Debian bookworm; installs live-build; network for the packages).
`;
writeFileSync(join(repo, 'bench/results/live-build.md'), md);
process.stderr.write(md);
