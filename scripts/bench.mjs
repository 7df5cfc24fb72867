#!/usr/bin/env node
// npm run bench (issue 12): every speed goal measured in one run and written as one table to
// bench/results/speed.md: the index (bench-inspect.mjs), the optimizer (bench-optimize.mjs), then the
// parse rates, sort, report and start-up (bench-speed.mjs), which writes the table. Each script also
// runs alone (npm run bench:speed, bench:optimize, node scripts/bench-inspect.mjs) and then only prints.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const cache = join(repo, 'work-cache');
mkdirSync(cache, { recursive: true });
const rows = join(cache, `bench-rows-${process.pid}.jsonl`);
rmSync(rows, { force: true });
const env = { ...process.env, BENCH_ROWS: rows };
const steps = [
  ['scripts/bench-inspect.mjs'],
  ['scripts/bench-optimize.mjs'],
  ['--expose-gc', 'scripts/bench-speed.mjs'],
];
let status = 0;
for (const args of steps) {
  const res = spawnSync(process.execPath, args, { cwd: repo, env, stdio: 'inherit' });
  if (res.status !== 0) {
    status = res.status ?? 1;
    process.stderr.write(`bench: ${args.at(-1)} failed (exit ${res.status ?? res.signal})\n`);
    break;
  }
}
rmSync(rows, { force: true });
process.exit(status);
