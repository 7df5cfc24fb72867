// The fuzzing loop: mutate seeds, run every step of each input in forked workers (heap cap,
// per-step hang limit), classify outcomes, save failing inputs as regression fixtures.
//
// Time: a step is a failure ("hang") only when it gives no answer within the hang limit (30 s by
// default, `hangMs`; a step's own `hangMs` can lower it for the harness's self-tests), on two
// workers in turn. The soft limit (`timeoutMs`, a step's `limitMs`) only counts steps as "slow": a
// figure for `npm run fuzz`, never a failure, since CPU and wall time depend on the machine's load.
import { execFileSync, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { makeRng, mutate } from './mutate.mjs';
import { buildSeeds } from './seeds.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = join(here, '../..');
export const REGRESSIONS = join(REPO, 'test/fixtures/fuzz-regressions');
const WORKER = join(here, 'worker.mjs');
/** A step with no answer for this long (on two workers in turn) hangs; anything quicker is only slow. */
export const HANG_MS = 30_000;

/** Compiles src/ into a private dist (others may be rebuilding dist/ while we run). */
export function buildDist(cacheRoot) {
  const out = join(cacheRoot, 'dist');
  mkdirSync(cacheRoot, { recursive: true });
  try {
    execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.json'), '--outDir', out, '--declaration', 'false', '--sourceMap', 'false'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    // Type errors still emit JavaScript; only a missing output is fatal.
    if (!existsSync(join(out, 'cli/main.js'))) throw err;
  }
  return out;
}

async function loadLib(dist) {
  const load = (rel) => import(pathToFileURL(join(dist, rel)).href);
  return { open: await load('image/open.js'), read: await load('trace/parse-whole.js'), map: await load('map/index.js'), profile: await load('trace/map-output-format.js') };
}

/** The steps run on one input of a seed class. `$INPUT` is the input, `$AUX/x` a file beside the seeds. */
export function stepsFor(seed) {
  const img = seed.class === 'trace' || seed.class === 'sortfile' ? `$AUX/${seed.image ?? 'iso-rr-joliet-raw.iso'}` : '$INPUT';
  const cli = (target, ...argv) => ({ target, argv });
  switch (seed.class) {
    case 'squashfs':
    case 'iso': {
      const a = seed.aux;
      return [
        { target: seed.class === 'iso' ? 'iso9660' : 'squashfs' },
        { target: 'cat' },
        cli('inspect', 'inspect', img),
        cli('inspect-json', 'inspect', '--json', img),
        cli('map', 'map', '--image', img, `$AUX/${a.qemu}`, `$AUX/${a.events}`),
        cli('sort-image', 'sort', '--image', img, `$AUX/${a.events}`),
        cli('readahead', 'readahead', '--image', img, `$AUX/${a.events}`),
        cli('readahead-ranges', 'readahead', '--ranges', '--image', img, `$AUX/${a.qemu}`),
        cli('verify', 'verify', '--image', img, '--sort', `$AUX/${a.sort}`),
        cli('simulate', 'simulate', '--image', img, `$AUX/${a.events}`),
      ];
    }
    case 'manifest':
      return [{ target: 'manifest' }, cli('sort-manifest', 'sort', '--image', '$INPUT', `$AUX/${seed.aux.events}`)];
    case 'trace':
      return [
        { target: 'trace-parse' },
        { target: 'trace-parsers' },
        { target: 'map-manifest', manifest: '$AUX/captured-layout.json' },
        cli('map', 'map', '--image', img, '$INPUT'),
        cli('sort-image', 'sort', '--image', img, '$INPUT'),
        cli('sort-manifest', 'sort', '--image', '$AUX/captured-layout.json', '$INPUT'),
        cli('sort', 'sort', '$INPUT'),
        // the optimizer's own inputs: its action file (through the output rules, to a device) and tune
        cli('sort-actions', 'sort', '--image', img, '--actions', '/dev/null', '$INPUT'),
        { ...cli('tune', 'tune', '--image', img, '$INPUT'), every: 4, limitMs: 5000 },
        cli('readahead', 'readahead', '--image', img, '$INPUT'),
        cli('simulate', 'simulate', '--image', img, '$INPUT'),
        // The HTML report costs ~200 ms warm and more in a fresh worker (d3 + jsdom): one trace
        // input in 8, with 3 s of CPU (it is not one of the parsers the 1 s limit is for).
        { ...cli('report', 'report', '--image', img, '$INPUT'), every: 8, checkMarkup: true, limitMs: 3000 },
      ];
    case 'sortfile':
      return [cli('verify', 'verify', '--image', img, '--sort', '$INPUT')];
    case 'decompress':
      return [{ target: `decompress-${seed.compressor}`, kind: 'decompress', compressor: seed.compressor, maxOutput: seed.maxOutput }];
    default:
      throw new Error(`unknown seed class ${seed.class}`);
  }
}

function materialize(step, input, auxDir) {
  const sub = (s) => s.replace('$INPUT', input).replace(/^\$AUX\//, `${auxDir}/`);
  const out = { ...step, file: input };
  if (step.argv) out.argv = step.argv.map(sub);
  if (step.manifest) out.manifest = sub(step.manifest);
  return out;
}

/** A forked worker with a heap cap; `run(step, timeoutMs)` resolves with its report, or a timeout/death. */
class Worker {
  constructor(dist, heapMiB) {
    this.stderr = '';
    this.child = fork(WORKER, [], {
      execArgv: [`--max-old-space-size=${heapMiB}`, `--max-semi-space-size=16`],
      env: { ...process.env, BOOTPROF_FUZZ_DIST: dist },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr.on('data', (d) => {
      this.stderr = (this.stderr + d).slice(-4000);
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.once('message', (m) => (m.type === 'ready' ? resolve() : reject(new Error('bad worker hello'))));
      this.child.once('exit', (code, sig) => reject(new Error(`worker died at start: ${code ?? sig}\n${this.stderr}`)));
    });
    this.nextId = 0;
  }
  run(step, timeoutMs) {
    const id = ++this.nextId;
    return new Promise((resolve) => {
      let done = false;
      const finish = (r) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        resolve(r);
      };
      const onMessage = (m) => {
        if (m.type === 'done' && m.id === id) finish(m);
      };
      const onExit = (code, sig) => finish({ outcome: 'died', error: `worker exited (${code ?? sig})\n${this.stderr.slice(-1500)}` });
      const timer = setTimeout(() => {
        this.kill();
        finish({ outcome: 'timeout', error: `no answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
      this.child.send({ type: 'run', id, step });
    });
  }
  kill() {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

export function inputHash(bytes) {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 16);
}

function auxRefs(step) {
  return [...(step.argv ?? []), step.manifest ?? ''].filter((a) => a.startsWith('$AUX/')).map((a) => a.slice(5));
}

/** Saves a failing input and its note; aux files it needs go to fuzz-regressions/aux/. */
function saveRegression(outDir, auxSrc, record) {
  mkdirSync(join(outDir, 'aux'), { recursive: true });
  const name = `${record.target}-${record.hash}`;
  const bin = join(outDir, `${name}.bin`);
  writeFileSync(bin, record.bytes);
  for (const a of auxRefs(record.step)) {
    const to = join(outDir, 'aux', a);
    if (!existsSync(to)) copyFileSync(join(auxSrc, a), to);
  }
  const note = {
    target: record.target,
    outcome: record.outcome,
    seed: record.seed,
    class: record.class,
    mutations: record.ops,
    step: record.step,
    error: record.error,
    ms: record.ms,
    found: new Date().toISOString(),
    fuzzSeed: record.fuzzSeed,
    index: record.index,
  };
  writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(note, null, 2)}\n`);
  return bin;
}

/**
 * Runs the fuzzer. options: { count, seconds, seed, workers, dist, cacheRoot, timeoutMs, heapMiB,
 * rssLimitMiB, save (write regressions), outDir, log(fn) }.
 */
export async function runFuzz(options) {
  const o = {
    count: 10000, seconds: Infinity, seed: 1, workers: 2, timeoutMs: 1000, hangMs: HANG_MS, heapMiB: 384, rssLimitMiB: 512,
    save: true, outDir: REGRESSIONS, log: () => {}, ...options,
  };
  const lib = await loadLib(o.dist);
  const { dir: auxDir, seeds } = buildSeeds(o.cacheRoot, REPO, lib);
  for (const s of seeds) s.bytes = readFileSync(s.path);
  const byClass = new Map();
  for (const s of seeds) byClass.set(s.class, [...(byClass.get(s.class) ?? []), s]);
  const classWeights = [['squashfs', 0.3], ['iso', 0.18], ['trace', 0.34], ['sortfile', 0.04], ['manifest', 0.04], ['decompress', 0.1]].filter(([c]) => byClass.has(c));
  const pickSeed = (rng) => {
    let r = rng.float() * classWeights.reduce((a, [, w]) => a + w, 0);
    for (const [c, w] of classWeights) {
      if ((r -= w) <= 0) return rng.pick(byClass.get(c));
    }
    return rng.pick(seeds);
  };

  const work = mkdtempSync(join(tmpdir(), 'bootprof-fuzz-'));
  const stats = {
    inputs: 0, steps: 0, outcomes: { ok: 0, typed: 0, crash: 0, hang: 0, memory: 0, slow: 0 }, peakRssKiB: 0, recycled: 0,
    slowest: undefined, failures: [], seeds: seeds.length, byTarget: {},
  };
  const seen = new Set();
  const started = performance.now();
  const deadline = started + o.seconds * 1000;
  let next = 0;

  const record = (input, step, res, outcome) => {
    const target = step.target;
    const sig = `${target}|${outcome}|${String(res.error ?? '').split('\n').slice(0, 2).join(' ')}`;
    const hash = inputHash(input.bytes);
    const failure = { target, outcome, hash, error: res.error, seed: input.seed.name, ops: input.ops, index: input.index, signature: sig };
    // One input that fails several steps (a trace every command parses) is kept once.
    if (o.save && !seen.has(hash)) {
      failure.saved = saveRegression(o.outDir, auxDir, {
        ...failure, bytes: input.bytes, step: { ...input.stepsRaw.find((s) => s.target === target) }, class: input.seed.class, ms: res.ms, fuzzSeed: o.seed,
      });
    }
    seen.add(hash);
    stats.failures.push(failure);
    o.log(`FAIL ${outcome} ${target} seed=${input.seed.name} input#${input.index} ${failure.saved ?? ''}\n  ${String(res.error).split('\n').slice(0, 4).join('\n  ')}`);
  };

  const runInput = async (slot, input) => {
    for (const raw of input.stepsRaw) {
      if (raw.every !== undefined && input.index % raw.every !== 0) continue;
      const step = materialize(raw, input.file, auxDir);
      const limitMs = raw.limitMs ?? o.timeoutMs;
      const hangMs = raw.hangMs ?? o.hangMs;
      let res = await slot.worker.run(step, hangMs);
      stats.steps++;
      let outcome = res.outcome;
      if (outcome === 'timeout' || outcome === 'died') {
        // That worker is dead either way (killed at the hang limit, or died): the next step needs a new one.
        slot.worker = new Worker(o.dist, o.heapMiB);
        await slot.worker.ready;
        if (outcome === 'timeout') {
          // A hang must repeat on a fresh worker: one busy moment of the machine is not a hang.
          const again = await slot.worker.run(step, hangMs);
          if (again.outcome === 'timeout' || again.outcome === 'died') {
            slot.worker = new Worker(o.dist, o.heapMiB);
            await slot.worker.ready;
            outcome = again.outcome === 'died' ? 'crash' : 'hang';
            res = again.outcome === 'died' ? again : { ...res, error: `no answer within ${hangMs} ms, twice (on two workers)` };
          } else {
            res = again;
            outcome = again.outcome;
          }
        } else outcome = 'crash';
      }
      // Over the soft limit but answered: counted as slow too (a figure, with the slowest step), never a failure.
      if ((outcome === 'ok' || outcome === 'typed') && !(res.ms <= limitMs)) stats.outcomes.slow++;
      if (res.maxRssKiB !== undefined && res.maxRssKiB > o.rssLimitMiB * 1024) {
        // like a hang, an overrun counts only when the step repeats it on a fresh worker
        slot.worker.kill();
        stats.recycled++;
        const fresh = await onFreshWorker(o, step, hangMs);
        slot.worker = fresh.worker;
        const again = fresh.res;
        if (fresh.overrun) {
          record(input, raw, { ...again, error: overrunMessage(res, again, o) }, 'memory');
          stats.outcomes.memory++;
          slot.worker.kill();
          slot.worker = new Worker(o.dist, o.heapMiB);
          await slot.worker.ready;
          continue;
        }
        res = again;
        outcome = again.outcome;
      }
      if (res.maxRssKiB !== undefined) stats.peakRssKiB = Math.max(stats.peakRssKiB, res.maxRssKiB);
      const t = (stats.byTarget[raw.target] ??= { runs: 0, ok: 0, typed: 0, failed: 0, ms: 0 });
      t.runs++;
      t.ms += res.ms ?? 0;
      if (outcome === 'ok' || outcome === 'typed') t[outcome]++;
      else t.failed++;
      stats.outcomes[outcome === 'died' ? 'crash' : outcome]++;
      if (outcome === 'crash' || outcome === 'hang') record(input, raw, res, outcome);
      if (o.verbose && outcome === 'typed') o.log(`typed ${raw.target} ${input.seed.name}: ${res.error}`);
      if (res.ms !== undefined && (stats.slowest === undefined || res.ms > stats.slowest.ms)) {
        stats.slowest = { ms: res.ms, cpuMs: res.cpuMs, target: raw.target, seed: input.seed.name, index: input.index, ops: input.ops, outcome: res.outcome };
        writeFileSync(join(o.cacheRoot, 'slowest.bin'), input.bytes);
      }
    }
  };

  const slots = [];
  for (let i = 0; i < o.workers; i++) {
    const w = new Worker(o.dist, o.heapMiB);
    await w.ready;
    slots.push({ worker: w, file: join(work, `input-${i}`) });
  }
  let lastLog = performance.now();
  await Promise.all(
    slots.map(async (slot) => {
      while (next < o.count && performance.now() < deadline) {
        const index = next++;
        const rng = makeRng((o.seed * 1000003 + index) | 0);
        const seed = pickSeed(rng);
        const others = byClass.get(seed.class).filter((s) => s !== seed).map((s) => s.bytes);
        const { bytes, ops } = mutate(rng, seed, others);
        writeFileSync(slot.file, bytes);
        await runInput(slot, { index, seed, ops, bytes, file: slot.file, stepsRaw: stepsFor(seed) });
        stats.inputs++;
        if (performance.now() - lastLog > 10000) {
          lastLog = performance.now();
          const secs = (lastLog - started) / 1000;
          o.log(`${stats.inputs} inputs, ${stats.steps} steps, ${(stats.inputs / secs).toFixed(1)} inputs/s, failures ${stats.failures.length}, peak RSS ${Math.round(stats.peakRssKiB / 1024)} MiB`);
        }
      }
    }),
  );
  for (const s of slots) s.worker.kill();
  rmSync(work, { recursive: true, force: true });
  stats.seconds = (performance.now() - started) / 1000;
  stats.inputsPerSecond = stats.inputs / stats.seconds;
  return stats;
}

/**
 * A worker's maxRSS is its peak over its whole life, so after many inputs the allocator's growth
 * alone can pass the limit: the step runs again, alone, on a fresh worker. `overrun` when it passes
 * the limit (or dies, or hangs) there too.
 */
async function onFreshWorker(o, step, hangMs) {
  const worker = new Worker(o.dist, o.heapMiB);
  await worker.ready;
  const res = await worker.run(step, hangMs);
  const overrun = res.outcome === 'timeout' || res.outcome === 'died' || (res.maxRssKiB ?? 0) > o.rssLimitMiB * 1024;
  return { worker, res, overrun };
}

function overrunMessage(first, fresh, o) {
  const mib = (r) => (r.maxRssKiB === undefined ? r.outcome : `${Math.round(r.maxRssKiB / 1024)} MiB`);
  return `worker RSS reached ${mib(first)}, then ${mib(fresh)} on a fresh worker (limit ${o.rssLimitMiB} MiB)`;
}

/** Replays every saved regression input; returns [{ name, outcome, error }]. */
export async function replayRegressions(options) {
  const o = { hangMs: HANG_MS, heapMiB: 384, rssLimitMiB: 512, outDir: REGRESSIONS, ...options };
  if (!existsSync(o.outDir)) return [];
  const notes = readdirSync(o.outDir).filter((f) => f.endsWith('.json')).sort();
  const results = [];
  let worker = new Worker(o.dist, o.heapMiB);
  await worker.ready;
  for (const n of notes) {
    const note = JSON.parse(readFileSync(join(o.outDir, n), 'utf8'));
    const bin = join(o.outDir, n.replace(/\.json$/, '.bin'));
    if (!existsSync(bin) || statSync(bin).size > 64 * 1024 * 1024) continue;
    const step = materialize(note.step, bin, join(o.outDir, 'aux'));
    // a missing aux file would end every replay in a typed "no such file": the bug never runs
    const auxPaths = [...(note.step.argv ?? []), note.step.manifest ?? ''].filter((a) => a.startsWith('$AUX/'));
    const missing = auxPaths.map((a) => join(o.outDir, 'aux', a.slice(5))).filter((p) => !existsSync(p));
    if (missing.length > 0) {
      results.push({ name: n.replace(/\.json$/, ''), outcome: 'missing', error: `aux file missing: ${missing.join(', ')}` });
      continue;
    }
    const hangMs = note.step.hangMs ?? o.hangMs;
    let res = await worker.run(step, hangMs);
    if (res.outcome === 'timeout' || res.outcome === 'died') {
      worker = new Worker(o.dist, o.heapMiB);
      await worker.ready;
      if (res.outcome === 'timeout') {
        // As in runFuzz: only no answer within the hang limit, twice, is a hang.
        const again = await worker.run(step, hangMs);
        res =
          again.outcome === 'timeout' || again.outcome === 'died'
            ? { ...again, outcome: again.outcome === 'died' ? 'died' : 'hang', error: again.outcome === 'died' ? again.error : `no answer within ${hangMs} ms, twice` }
            : again;
        if (again.outcome === 'timeout' || again.outcome === 'died') {
          worker = new Worker(o.dist, o.heapMiB);
          await worker.ready;
        }
      }
    }
    if (res.maxRssKiB !== undefined && res.maxRssKiB > o.rssLimitMiB * 1024) {
      // as in runFuzz: an overrun counts when the step repeats it on a fresh worker
      worker.kill();
      const fresh = await onFreshWorker(o, step, hangMs);
      worker = fresh.worker;
      res = fresh.overrun ? { ...fresh.res, outcome: 'memory', error: overrunMessage(res, fresh.res, o) } : fresh.res;
    }
    if (res.outcome === 'memory' || res.outcome === 'died') {
      worker.kill();
      worker = new Worker(o.dist, o.heapMiB);
      await worker.ready;
    }
    results.push({ name: n.replace(/\.json$/, ''), target: note.target, outcome: res.outcome, error: res.error, ms: res.ms, maxRssKiB: res.maxRssKiB });
  }
  worker.kill();
  return results;
}
