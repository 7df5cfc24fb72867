#!/usr/bin/env node
// npm run fuzz -- [--count N] [--seconds S] [--seed S] [--workers W] [--dist DIR] [--no-save] [--replay]
// Mutates real images (mksquashfs, xorriso) and trace fixtures, runs every parser and the
// inspect/map/sort/readahead/verify handlers on each input in heap-capped workers with a 1 s
// limit per step. Anything but success or a typed BootprofError is a failure: the input is saved
// to test/fixtures/fuzz-regressions/<target>-<hash>.bin with a .json note. Exit 1 on failures.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO, buildDist, replayRegressions, runFuzz } from '../test/fuzz/run.mjs';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '10000' },
    seconds: { type: 'string' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    workers: { type: 'string', default: '2' },
    dist: { type: 'string' },
    'no-save': { type: 'boolean', default: false },
    replay: { type: 'boolean', default: false },
    verbose: { type: 'boolean', default: false },
    out: { type: 'string' },
    'timeout-ms': { type: 'string', default: '1000' },
  },
});

const cacheRoot = join(REPO, 'work-cache/fuzz');
const say = (s) => process.stderr.write(`fuzz: ${s}\n`);
const dist = values.dist ?? (say('compiling src/ into work-cache/fuzz/dist ...'), buildDist(cacheRoot));

if (values.replay) {
  const results = await replayRegressions({ dist, ...(values.out !== undefined ? { outDir: values.out } : {}) });
  const bad = results.filter((r) => r.outcome !== 'ok' && r.outcome !== 'typed');
  for (const r of results) say(`${r.outcome.padEnd(6)} ${r.name}${r.error && r.outcome !== 'typed' ? `\n  ${String(r.error).split('\n').slice(0, 3).join('\n  ')}` : ''}`);
  say(`${results.length} regression inputs replayed, ${bad.length} failing`);
  process.exit(bad.length > 0 ? 1 : 0);
}

const seed = Number(values.seed);
say(`seed ${seed} (rerun the same inputs with --seed ${seed})`);
const stats = await runFuzz({
  count: Number(values.count),
  seconds: values.seconds !== undefined ? Number(values.seconds) : Infinity,
  seed,
  workers: Number(values.workers),
  timeoutMs: Number(values['timeout-ms']),
  dist,
  cacheRoot,
  save: !values['no-save'],
  log: say,
  verbose: values.verbose,
  ...(values.out !== undefined ? { outDir: values.out } : {}),
});

const s = stats;
const lines = [
  `inputs          ${s.inputs} (${s.steps} steps) in ${s.seconds.toFixed(1)} s: ${s.inputsPerSecond.toFixed(1)} inputs/s, ${(s.steps / s.seconds).toFixed(1)} steps/s`,
  `outcomes        ok ${s.outcomes.ok}, typed error ${s.outcomes.typed}, crash ${s.outcomes.crash}, hang ${s.outcomes.hang}, memory ${s.outcomes.memory}, slow-but-confirmed-fast ${s.outcomes.slow}`,
  `workers         ${s.recycled} replaced when their lifetime peak RSS passed the limit (each step then ran again on the fresh worker)`,
  `peak RSS        ${(s.peakRssKiB / 1024).toFixed(1)} MiB (worker maxRSS)`,
  `slowest step    ${s.slowest ? `${s.slowest.ms.toFixed(1)} ms (cpu ${s.slowest.cpuMs.toFixed(1)} ms) ${s.slowest.target} on ${s.slowest.seed} input #${s.slowest.index} [${s.slowest.ops.join('; ')}] -> ${s.slowest.outcome}; bytes in work-cache/fuzz/slowest.bin` : '-'}`,
  'per target      runs ok typed failed avg-ms',
  ...Object.entries(s.byTarget).map(([t, v]) => `  ${t.padEnd(18)} ${String(v.runs).padStart(6)} ${String(v.ok).padStart(6)} ${String(v.typed).padStart(6)} ${String(v.failed).padStart(4)} ${(v.ms / v.runs).toFixed(2).padStart(8)}`),
];
const bySig = new Map();
for (const f of s.failures) bySig.set(f.signature, [...(bySig.get(f.signature) ?? []), f]);
lines.push(`failures        ${s.failures.length} (${bySig.size} distinct)`);
for (const [sig, list] of bySig) lines.push(`  ${list.length}x ${sig.slice(0, 300)}\n     e.g. ${list[0].saved ?? list[0].hash}`);
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(s.failures.length > 0 ? 1 : 0);
