#!/usr/bin/env node
// npm run bench: wall time of `bootprof inspect --json > /dev/null` against `rdsquashfs -d` and
// `unsquashfs -lls` on one squashfs of about 100,000 small files, measured side by side in
// alternating rounds, printed as ratios. The image is built once and cached under work-cache/.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cache = join(root, 'work-cache');
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

function timeOnce(cmd, args) {
  const devnull = openSync('/dev/null', 'w');
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: ['ignore', devnull, 'pipe'], maxBuffer: 64 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
    return ms;
  } finally {
    closeSync(devnull);
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

const tools = [
  { name: 'bootprof inspect --json', cmd: process.execPath, args: [cli, 'inspect', '--json', image] },
  { name: 'rdsquashfs -d', cmd: 'rdsquashfs', args: ['-d', image] },
  { name: 'unsquashfs -lls', cmd: 'unsquashfs', args: ['-lls', image] },
];
for (const t of tools) timeOnce(t.cmd, t.args); // warm the page cache and the binaries
const times = tools.map(() => []);
for (let r = 0; r < ROUNDS; r++) {
  // Alternate the order each round so that no tool always runs right after the same one.
  const order = r % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
  for (const i of order) times[i].push(timeOnce(tools[i].cmd, tools[i].args));
}
const med = times.map(median);
process.stdout.write(`image ${image}: ${FILES} files, ${ROUNDS} alternating rounds, median wall time (min)\n`);
for (const [i, t] of tools.entries()) {
  process.stdout.write(`  ${t.name.padEnd(24)} ${med[i].toFixed(0).padStart(6)} ms  (${Math.min(...times[i]).toFixed(0)} ms)\n`);
}
process.stdout.write(`  bootprof / unsquashfs -lls = ${(med[0] / med[2]).toFixed(2)}x\n`);
process.stdout.write(`  bootprof / rdsquashfs -d   = ${(med[0] / med[1]).toFixed(2)}x\n`);
