#!/usr/bin/env node
// Prints the CPU time of the sort pipeline on a generated 200,000-line profile, in process
// (read, filter, merge, select, render), and the wall time of the whole CLI. A figure, not a test.
// Usage: npm run build && node scripts/bench-sort.mjs [lines]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = new URL('../dist/', import.meta.url);
const { readTrace } = await import(new URL('trace/read.js', dist));
const { profileFromTraces } = await import(new URL('profile/load.js', dist));
const { DEFAULT_EXCLUDES } = await import(new URL('profile/filters.js', dist));
const { selectRegularFiles } = await import(new URL('profile/select.js', dist));
const { renderSortFile } = await import(new URL('emit/sort-file.js', dist));

const lines = Number(process.argv[2] ?? 200000);
const dir = mkdtempSync(join(tmpdir(), 'bootprof-bench-sort-'));
const paths = [];
let x = 1;
for (let i = 0; i < lines; i++) {
  x = (x * 1103515245 + 12345) % 2147483648;
  // about one access in three revisits an earlier file, as in real boots
  paths.push(i > 10 && x % 3 === 0 ? paths[x % i] : `/usr/lib/pkg${x % 997}/dir ${x % 31}/file-${i}.so`);
}
const profile = join(dir, 'profile.list');
writeFileSync(profile, paths.join('\n') + '\n');

const cpuMs = [];
for (let round = 0; round < 5; round++) {
  const t0 = process.cpuUsage();
  const trace = await readTrace(profile);
  const prof = profileFromTraces([trace], { excludes: DEFAULT_EXCLUDES, stripPrefixes: [], merge: 'concat' });
  const sel = selectRegularFiles(prof.entries);
  const out = renderSortFile(sel.files, { format: 'mksquashfs', placement: 'beginning' });
  const used = process.cpuUsage(t0);
  if (out.written === 0) throw new Error('nothing written');
  cpuMs.push((used.user + used.system) / 1000);
}
const wallMs = [];
for (let round = 0; round < 3; round++) {
  const start = performance.now();
  const res = spawnSync(process.execPath, [new URL('cli/main.js', dist).pathname, 'sort', profile, '-o', join(dir, 'out.sort')], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(res.stderr);
  wallMs.push(performance.now() - start);
}
rmSync(dir, { recursive: true, force: true });
const med = (a) => [...a].sort((p, q) => p - q)[a.length >> 1];
console.log(`bootprof sort on ${lines} profile lines (${new Set(paths).size} distinct paths):`);
console.log(`  pipeline CPU, in process: median ${med(cpuMs).toFixed(0)} ms over 5 runs (min ${Math.min(...cpuMs).toFixed(0)}, max ${Math.max(...cpuMs).toFixed(0)})`);
console.log(`  whole CLI wall time, Node start-up included: median ${med(wallMs).toFixed(0)} ms over 3 runs`);
