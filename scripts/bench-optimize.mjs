#!/usr/bin/env node
// npm run bench (second part): the layout optimizer on a 100,000-file root with a 5,000-file boot
// profile (a module log with times, processes and read ranges). Prints the wall time of
// `bootprof sort --actions` and `bootprof tune` against the 10 s budget, median of ROUNDS
// runs, and the ratio to a bare `node -e 0` measured in the same rounds.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordRows } from './bench-rows.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cache = join(repo, 'work-cache');
const FILES = Number(process.env.BENCH_FILES ?? 100_000);
const PROFILED = Number(process.env.BENCH_PROFILED ?? 5_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const BUDGET_S = 10;
const root = join(cache, `bench-optimize-root-${FILES}`);
const events = join(cache, `bench-optimize-events-${FILES}-${PROFILED}.tsv`);
const cli = join(repo, 'dist', 'cli', 'main.js');

let seed = 987654321;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8);
const pathOf = (i) => `usr/d${Math.floor(i / 3000)}/s${Math.floor(i / 100)}/file-${i}`;
const sizeOf = (i) => (i % 50 === 0 ? 200_000 + (i % 7) * 150_000 : 500 + (i * 7919) % 20_000);

function buildRoot() {
  if (existsSync(join(root, '.done'))) return;
  rmSync(root, { recursive: true, force: true });
  for (let i = 0; i < FILES; i++) {
    const rel = pathOf(i);
    if (i % 100 === 0) mkdirSync(join(root, rel, '..'), { recursive: true });
    const size = sizeOf(i);
    const line = `${i} ${rand().toString(36)} some text of file ${i}\n`;
    writeFileSync(join(root, rel), line.repeat(Math.ceil(size / line.length)).slice(0, size));
  }
  writeFileSync(join(root, '.done'), '');
}

function buildEvents() {
  if (existsSync(events)) return;
  const header = '#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath';
  const rows = [header];
  let seq = 0;
  let time = 1e9;
  const step = Math.floor(FILES / PROFILED);
  for (let k = 0; k < PROFILED; k++) {
    const i = (k * step + (rand() % step)) % FILES;
    const pid = 100 + (rand() % 40);
    const size = sizeOf(i);
    time += 200_000 + (rand() % 2_000_000);
    rows.push(`${seq++}\t${time}\topen\t${pid}\tp${pid}\t-\t-\t-\t-\t/${pathOf(i)}`);
    const reads = size > 131072 ? 3 : 1;
    for (let r = 0; r < reads; r++) {
      const offset = reads === 1 ? 0 : (rand() % Math.floor(size / 4096)) * 4096;
      const length = Math.min(size - offset, reads === 1 ? size : 16384);
      time += 50_000;
      rows.push(`${seq++}\t${time}\tread\t${pid}\tp${pid}\t-\t-\t${offset}\t${length}\t/${pathOf(i)}`);
    }
  }
  writeFileSync(`${events}.tmp`, rows.join('\n') + '\n');
  renameSync(`${events}.tmp`, events);
}

function wall(args) {
  const t0 = process.hrtime.bigint();
  const res = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  if (res.status !== 0) throw new Error(`${args.join(' ')} failed: ${res.stderr}`);
  return s;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

mkdirSync(cache, { recursive: true });
process.stderr.write(`bench-optimize: ${FILES}-file root, ${PROFILED}-file profile (cached under work-cache/)\n`);
buildRoot();
buildEvents();
const actions = join(cache, 'bench-optimize.actions');
const times = { node: [], sort: [], tune: [] };
for (let r = 0; r < ROUNDS; r++) {
  times.node.push(wall(['-e', '0']));
  times.sort.push(wall([cli, 'sort', '--root', root, '--device', 'cd52x', '--actions', actions, '-o', join(cache, 'bench-optimize.sort'), events]));
  times.tune.push(wall([cli, 'tune', '--root', root, '--device', 'cd52x', '-o', join(cache, 'bench-optimize.tune'), events]));
}
const rows = [
  ['sort --actions (optimizer)', median(times.sort)],
  ['tune (4 block sizes)', median(times.tune)],
];
console.log(`optimizer on a ${FILES}-file root with a ${PROFILED}-file profile, median of ${ROUNDS} (bare node: ${median(times.node).toFixed(2)} s)`);
for (const [name, s] of rows) {
  console.log(`  ${name.padEnd(28)} ${s.toFixed(2)} s  = ${(s / BUDGET_S).toFixed(2)}x the ${BUDGET_S} s budget  ${s <= BUDGET_S ? 'PASS' : 'FAIL'}`);
}
recordRows(rows.map(([name, s]) => ({
  goal: `bootprof ${name}, ${FILES}-file root, ${PROFILED}-file profile`,
  measured: `${s.toFixed(2)} s wall (median of ${ROUNDS}; bare node ${median(times.node).toFixed(2)} s)`,
  ratio: `${(s / BUDGET_S).toFixed(2)}x the budget`,
  target: `<= ${BUDGET_S} s (issue 10)`,
  pass: s <= BUDGET_S,
})));
