// The rows of `npm run bench`'s one table. scripts/bench.mjs runs the benches one after another with
// BENCH_ROWS naming a fresh JSON-lines file: each bench adds its verdict rows there, and the last
// (bench-speed.mjs) writes them all into bench/results/speed.md. Run alone, bench-inspect and
// bench-optimize only print, and bench-speed writes a table of its own rows.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/** rows: { goal, measured, ratio, target, pass } */
export function recordRows(rows) {
  const file = process.env.BENCH_ROWS;
  if (!file) return;
  appendFileSync(file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
}

export function recordedRows() {
  const file = process.env.BENCH_ROWS;
  if (!file || !existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line));
}
