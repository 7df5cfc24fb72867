#!/usr/bin/env node
// npm run bench: wall time and peak RSS of `bootprof inspect --json > /dev/null` against
// `rdsquashfs -d` and `unsquashfs -lls` on one squashfs of about 100,000 small files, measured side
// by side in alternating rounds, printed as ratios; then `sort --image` and `readahead --image` of
// a 5,000-path boot list on that image (issue 12: <= 2x rdsquashfs, <= 64 MiB, <= 1.5 s). The
// image is built once and cached under work-cache/ (BENCH_CACHE overrides the place). With
// BENCH_BASE=<another build's dist/> its inspect, sort and readahead run in the same rounds, for a
// before/after ratio measured under the same load.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordRows } from './bench-rows.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const cache = process.env.BENCH_CACHE ?? join(root, 'work-cache');
const FILES = Number(process.env.BENCH_FILES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const image = join(cache, `bench-v2-${FILES}.sqfs`);
const cli = join(root, 'dist', 'cli', 'main.js');

function buildImage() {
  mkdirSync(cache, { recursive: true });
  const tree = join(cache, `bench-${FILES}-tree`);
  rmSync(tree, { recursive: true, force: true });
  const perDir = 100;
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8);
  for (let i = 0; i < FILES; i++) {
    const dir = join(tree, `d${Math.floor(i / perDir / 30)}`, `s${Math.floor(i / perDir)}`);
    if (i % perDir === 0) mkdirSync(dir, { recursive: true });
    // Distinct, somewhat compressible contents: no file is a duplicate of another.
    const size = rand() % 3000;
    let text = '';
    while (text.length < size) text += `${i} ${rand().toString(36)} line of file ${i}\n`;
    writeFileSync(join(dir, `file-${i}.txt`), text.slice(0, size));
  }
  const tmp = `${image}.tmp`;
  rmSync(tmp, { force: true });
  execFileSync('mksquashfs', [tree, tmp, '-noappend', '-quiet', '-no-progress'], { stdio: ['ignore', 'ignore', 'inherit'] });
  renameSync(tmp, image);
  rmSync(tree, { recursive: true, force: true });
}

/** Wall ms, CPU ms (user + system) and peak RSS (KiB), from GNU time, of one run, stdout to /dev/null. */
function timeOnce(cmd, args) {
  const devnull = openSync('/dev/null', 'w');
  const rssFile = join(cache, `bench-inspect-rss-${process.pid}`);
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync('/usr/bin/time', ['-o', rssFile, '-f', '%M %U %S', cmd, ...args], { stdio: ['ignore', devnull, 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    const [kib, user, sys] = readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    return { ms, kib, cpu: (user + sys) * 1000 };
  } finally {
    closeSync(devnull);
    rmSync(rssFile, { force: true });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

if (!existsSync(image)) {
  process.stderr.write(`building ${image} (${FILES} files, once)...\n`);
  buildImage();
}
if (!process.argv.includes('--no-build')) {
  try {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  } catch {
    // tsc still emits on type errors elsewhere in the tree; only a missing CLI is fatal.
    if (!existsSync(cli)) throw new Error('npm run build failed and dist/cli/main.js does not exist');
    process.stderr.write('warning: npm run build reported errors; timing the dist/ it emitted\n');
  }
}

// A boot list of 5,000 of the image's files, in a scattered order (every 20th file, permuted).
const bootList = join(cache, `bench-inspect-boot-${FILES}.list`);
{
  const paths = [];
  for (let i = 0; i < FILES; i += 20) {
    const j = (i * 7919) % FILES;
    paths.push(`/d${Math.floor(j / 100 / 30)}/s${Math.floor(j / 100)}/file-${j}.txt`);
  }
  writeFileSync(bootList, `${paths.join('\n')}\n`);
}

const base = process.env.BENCH_BASE ? join(process.env.BENCH_BASE, 'cli', 'main.js') : undefined;
const tools = [
  { name: 'bootprof inspect --json', cmd: process.execPath, args: [cli, 'inspect', '--json', image] },
  { name: 'rdsquashfs -d', cmd: 'rdsquashfs', args: ['-d', image] },
  { name: 'unsquashfs -lls', cmd: 'unsquashfs', args: ['-lls', image] },
  { name: 'node -e 0', cmd: process.execPath, args: ['-e', '0'] },
  { name: 'bootprof sort --image', cmd: process.execPath, args: [cli, 'sort', '--image', image, bootList] },
  { name: 'bootprof readahead', cmd: process.execPath, args: [cli, 'readahead', '--image', image, bootList] },
];
if (base) {
  tools.push(
    { name: 'base: inspect --json', cmd: process.execPath, args: [base, 'inspect', '--json', image] },
    { name: 'base: sort --image', cmd: process.execPath, args: [base, 'sort', '--image', image, bootList] },
    { name: 'base: readahead', cmd: process.execPath, args: [base, 'readahead', '--image', image, bootList] },
  );
}
for (const t of tools) timeOnce(t.cmd, t.args); // warm the page cache and the binaries
const runs = tools.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  // Alternate the order each round so that no tool always runs right after the same one.
  const order = tools.map((_, i) => i);
  if (r % 2 === 1) order.reverse();
  for (const i of order) runs[i].push(timeOnce(tools[i].cmd, tools[i].args));
}
const med = runs.map((rs) => median(rs.map((x) => x.ms)));
const rss = runs.map((rs) => median(rs.map((x) => x.kib)) / 1024);
const cpu = runs.map((rs) => median(rs.map((x) => x.cpu)));
const [load1] = (await import('node:os')).loadavg();
process.stdout.write(`image ${image}: ${FILES} files, ${ROUNDS} alternating rounds, median wall time (min), median CPU time, median peak RSS; load average ${load1.toFixed(1)}\n`);
for (const [i, t] of tools.entries()) {
  const min = Math.min(...runs[i].map((x) => x.ms));
  process.stdout.write(`  ${t.name.padEnd(24)} ${med[i].toFixed(0).padStart(6)} ms  (${min.toFixed(0)} ms)  ${cpu[i].toFixed(0).padStart(5)} ms CPU  ${rss[i].toFixed(0).padStart(4)} MiB\n`);
}
const verdict = (ok) => (ok ? 'PASS' : 'FAIL');
process.stdout.write(`  inspect --json / unsquashfs -lls = ${(med[0] / med[2]).toFixed(2)}x wall\n`);
process.stdout.write(`  inspect --json / rdsquashfs -d   = ${(med[0] / med[1]).toFixed(2)}x wall, ${(cpu[0] / cpu[1]).toFixed(2)}x CPU (target <= 2x wall: ${verdict(med[0] <= 2 * med[1])})\n`);
process.stdout.write(`  inspect --json peak RSS          = ${rss[0].toFixed(0)} MiB (target <= 64: ${verdict(rss[0] <= 64)}; node -e 0 alone ${rss[3].toFixed(0)} MiB)\n`);
process.stdout.write(`  sort --image                     = ${(med[4] / 1000).toFixed(2)} s wall, ${(cpu[4] / 1000).toFixed(2)} s CPU (target <= 1.5 s: ${verdict(med[4] <= 1500)})\n`);
process.stdout.write(`  readahead --image                = ${(med[5] / 1000).toFixed(2)} s wall, ${(cpu[5] / 1000).toFixed(2)} s CPU (target <= 1.5 s: ${verdict(med[5] <= 1500)})\n`);
if (base) {
  for (const [k, what] of [[0, 'inspect --json'], [4, 'sort --image'], [5, 'readahead --image']]) {
    const b = k === 0 ? 6 : k === 4 ? 7 : 8;
    process.stdout.write(`  ${what} / base ${' '.repeat(Math.max(0, 17 - what.length))}= ${(med[k] / med[b]).toFixed(2)}x wall, ${(cpu[k] / cpu[b]).toFixed(2)}x CPU, ${rss[k].toFixed(0)} vs ${rss[b].toFixed(0)} MiB\n`);
  }
}
recordRows([
  { goal: `rdsquashfs -d, ${FILES}-file image`, measured: `${med[1].toFixed(0)} ms wall, ${cpu[1].toFixed(0)} ms CPU, ${rss[1].toFixed(0)} MiB peak`, ratio: '1.00x', target: 'reference', pass: true },
  { goal: `bootprof inspect --json, ${FILES}-file image`, measured: `${med[0].toFixed(0)} ms wall, ${cpu[0].toFixed(0)} ms CPU, ${rss[0].toFixed(1)} MiB peak`, ratio: `${(med[0] / med[1]).toFixed(2)}x wall, ${(cpu[0] / cpu[1]).toFixed(2)}x CPU; ${rss[0].toFixed(1)} MiB`, target: '<= 2x wall, <= 64 MiB', pass: med[0] <= 2 * med[1] && rss[0] <= 64 },
  { goal: `bootprof sort --image, ${FILES}-file image, ${(FILES / 20).toLocaleString("en")}-path list`, measured: `${med[4].toFixed(0)} ms wall, ${cpu[4].toFixed(0)} ms CPU, ${rss[4].toFixed(0)} MiB peak`, ratio: `${(med[4] / 1000).toFixed(2)} s`, target: '<= 1.5 s', pass: med[4] <= 1500 },
  { goal: `bootprof readahead --image, same list`, measured: `${med[5].toFixed(0)} ms wall, ${cpu[5].toFixed(0)} ms CPU, ${rss[5].toFixed(0)} MiB peak`, ratio: `${(med[5] / 1000).toFixed(2)} s`, target: '<= 1.5 s', pass: med[5] <= 1500 },
]);
