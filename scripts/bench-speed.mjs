#!/usr/bin/env node
// npm run bench (issue 12): parse rates, `sort` on a million module events against
// `awk -F'\t' '{print $NF}' | sort -u`, and start-up against a bare `node -e 0`, measured side by
// side in one run and printed as ratios; the table is written to bench/results/speed.md.
// Wall times on a shared machine swing with its load, so CPU time (user + sys) is printed next
// to them. Needs dist/ (npm run build). BENCH_EVENTS=N changes the size of the module log.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordedRows } from './bench-rows.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const dist = join(repo, 'dist');
const cli = join(dist, 'cli', 'main.js');
const cache = join(repo, 'work-cache', 'bench-speed');
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const PROFILED = 5000;
mkdirSync(cache, { recursive: true });

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
const row = (goal, measured, ratio, target, pass) => {
  rows.push({ goal, measured, ratio, target, verdict: pass ? 'PASS' : '**FAIL**' });
  process.stdout.write(`${goal}: ${measured} -> ${ratio} (target ${target}) ${pass ? 'PASS' : 'FAIL'}\n`);
};

// ---- inputs ------------------------------------------------------------------------------------
let seed = 987654321;
const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8);
const pathOf = (i) => `usr/d${Math.floor(i / 3000)}/s${Math.floor(i / 100)}/file-${i}`;
const sizeOf = (i) => (i % 50 === 0 ? 200_000 + (i % 7) * 150_000 : 500 + (i * 7919) % 20_000);
const fileOf = (k) => k * 20 + (k % 20);

/** A module log: PROFILED files opened, then reads and faults among them (a boot's repeats). */
function moduleLog(path, events = EVENTS) {
  if (existsSync(path)) return;
  const rows = ['#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath'];
  let time = 1e9;
  for (let seq = 0; seq < events; seq++) {
    const k = seq < PROFILED ? seq : rand() % PROFILED;
    const i = fileOf(k);
    const pid = 100 + (rand() % 40);
    time += 1000 + (rand() % 20000);
    if (seq < PROFILED) rows.push(`${seq}\t${time}\topen\t${pid}\tp${pid}\t-\t-\t-\t-\t/${pathOf(i)}`);
    else rows.push(`${seq}\t${time}\t${rand() & 1 ? 'read' : 'fault'}\t${pid}\tp${pid}\t7:0\t${i + 1}\t${(rand() % 4) * 4096}\t4096\t/${pathOf(i)}`);
  }
  writeFileSync(`${path}.tmp`, `${rows.join('\n')}\n`);
  renameSync(`${path}.tmp`, path);
}

/** The tree the profiled files live in (the files only: `sort --root` walks it). */
function profiledRoot(root) {
  if (existsSync(join(root, '.done'))) return;
  rmSync(root, { recursive: true, force: true });
  for (let k = 0; k < PROFILED; k++) {
    const i = fileOf(k);
    const file = join(root, pathOf(i));
    mkdirSync(dirname(file), { recursive: true });
    const line = `${i} some text of file ${i}\n`;
    writeFileSync(file, line.repeat(Math.ceil(sizeOf(i) / line.length)).slice(0, sizeOf(i)));
  }
  writeFileSync(join(root, '.done'), '');
}

const textLines = (n, make) => {
  const out = [];
  for (let i = 0; i < n; i++) out.push(make(i));
  return Buffer.from(`${out.join('\n')}\n`);
};

// ---- 1. parse rates, in process ----------------------------------------------------------------
async function parseRates() {
  const { parseKmodEvents } = await import(join(dist, 'trace/kmod-events.js'));
  const { parseQemuLog } = await import(join(dist, 'trace/qemu.js'));
  const { parseBlkparse } = await import(join(dist, 'trace/blkparse.js'));
  const { profileFromTraces } = await import(join(dist, 'profile/load.js'));
  const { DEFAULT_EXCLUDES } = await import(join(dist, 'profile/filters.js'));
  const log = join(cache, `events-${EVENTS}.tsv`);
  moduleLog(log);
  const inputs = [
    ['module events to a profile', readFileSync(log), (b) => profileFromTraces([parseKmodEvents(b, 'events.tsv')], { excludes: DEFAULT_EXCLUDES, stripPrefixes: [], merge: 'concat' })],
    ['qemu log', textLines(EVENTS, (i) => `12345@${1795632211 + Math.floor(i / 1000)}.${String((i * 997) % 1_000_000).padStart(6, '0')}:blk_co_preadv blk 0x55d5c7b0e8a0 bs 0x55d5c7b15000 offset ${((i * 7919) % 300_000) * 2048} bytes 4096 flags 0x0`), (b) => parseQemuLog(b, 'qemu.log')],
    ['blkparse text', textLines(EVENTS, (i) => `  7,0    0 ${String(i + 1).padStart(8)} ${(i / 1000).toFixed(9).padStart(14)}   211  D  RS ${(i * 8) % 9999999} + 8 [md5sum]`), (b) => parseBlkparse(b, 'blk.txt')],
  ];
  for (const [name, bytes, parse] of inputs) {
    const cpu = [];
    const wall = [];
    for (let r = 0; r < 3; r++) {
      global.gc?.();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      parse(bytes);
      wall.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const mb = bytes.length / 1e6;
    const rate = mb / (median(cpu) / 1000);
    row(`${name}, ${EVENTS} lines`, `${mb.toFixed(0)} MB: ${median(cpu).toFixed(0)} ms CPU, ${median(wall).toFixed(0)} ms wall`, `${rate.toFixed(0)} MB/s (CPU), ${(mb / (median(wall) / 1000)).toFixed(0)} MB/s (wall)`, '>= 100 MB/s', rate >= 100);
  }
}

// ---- whole processes ---------------------------------------------------------------------------
/** Wall ms, CPU ms (user + sys of the children) and peak RSS (KiB) of a command, via GNU time. */
function measure(argv, { shell = false } = {}) {
  const out = join(cache, 'time.txt');
  const cmd = shell ? ['sh', '-c', argv] : argv;
  const t0 = process.hrtime.bigint();
  const res = spawnSync('/usr/bin/time', ['-o', out, '-f', '%U %S %M', ...cmd], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  if (res.status !== 0) throw new Error(`${cmd.join(' ')} failed (${res.status}): ${res.stderr}`);
  const [user, sys, rss] = readFileSync(out, 'utf8').trim().split('\n').at(-1).split(' ').map(Number);
  return { wall, cpu: (user + sys) * 1000, rss };
}

function sideBySide(commands, rounds) {
  const results = commands.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? commands.map((_, i) => i) : commands.map((_, i) => commands.length - 1 - i);
    for (const i of order) results[i].push(measure(commands[i].argv, commands[i]));
  }
  return results.map((runs) => ({ wall: median(runs.map((x) => x.wall)), cpu: median(runs.map((x) => x.cpu)), rss: Math.max(...runs.map((x) => x.rss)) }));
}

// ---- 2. sort on a million module events -------------------------------------------------------
function sortBench() {
  const log = join(cache, `events-${EVENTS}.tsv`);
  moduleLog(log);
  const root = join(cache, 'root');
  profiledRoot(root);
  const [awk, firstAccess, optimized] = sideBySide(
    [
      { argv: `awk -F'\\t' '{print $NF}' '${log}' | sort -u > /dev/null`, shell: true },
      { argv: [process.execPath, cli, 'sort', '--order', 'first-access', '--root', root, log, '-o', join(cache, 'fa.sort')] },
      { argv: [process.execPath, cli, 'sort', '--root', root, log, '-o', join(cache, 'opt.sort')] },
    ],
    3,
  );
  const mb = (k) => (k / 1024).toFixed(0);
  row(`awk | sort -u, ${EVENTS} events`, `${awk.wall.toFixed(0)} ms wall, ${awk.cpu.toFixed(0)} ms CPU`, '1.00x', 'reference', true);
  // judged on CPU time: on this shared machine the wall time of a second-long run swings with the load
  for (const [name, r] of [['sort --order first-access --root', firstAccess], ['sort --root (optimizer)', optimized]]) {
    const ratio = r.cpu / awk.cpu;
    row(`bootprof ${name}, ${EVENTS} events`, `${r.wall.toFixed(0)} ms wall, ${r.cpu.toFixed(0)} ms CPU, ${mb(r.rss)} MiB peak`, `${(r.wall / awk.wall).toFixed(2)}x wall, ${ratio.toFixed(2)}x CPU`, '<= 1.0x CPU', ratio <= 1);
  }
  // streaming: the same files and repeats, a quarter of the events; peak memory should hardly change
  const quarter = join(cache, `events-${EVENTS / 4}.tsv`);
  moduleLog(quarter, EVENTS / 4);
  const [small] = sideBySide([{ argv: [process.execPath, cli, 'sort', '--order', 'first-access', '--root', root, quarter, '-o', join(cache, 'fa4.sort')] }], 3);
  const growth = (firstAccess.rss - small.rss) / 1024;
  row(`sort --order first-access: peak at ${EVENTS / 4} then ${EVENTS} events`, `${mb(small.rss)} MiB, then ${mb(firstAccess.rss)} MiB`,
    `+${growth.toFixed(0)} MiB for ${(EVENTS * 3) / 4} more events`, 'grows with files, not events', growth < 16);
}

// ---- 3. report on a million module events --------------------------------------------------------
/** The squashfs of the profiled tree (mksquashfs), for `report --image`. */
function profiledImage(root) {
  const image = join(cache, 'root.squashfs');
  if (existsSync(image)) return image;
  execFileSync('mksquashfs', [root, `${image}.tmp`, '-noappend', '-quiet', '-no-progress', '-comp', 'gzip', '-e', '.done'], { stdio: 'ignore' });
  renameSync(`${image}.tmp`, image);
  return image;
}

function reportBench() {
  const log = join(cache, `events-${EVENTS}.tsv`);
  moduleLog(log);
  const root = join(cache, 'root');
  profiledRoot(root);
  const image = profiledImage(root);
  const [report] = sideBySide([{ argv: [process.execPath, cli, 'report', log, '--image', image, '-o', join(cache, 'report.html')] }], 3);
  const s = report.wall / 1000;
  row(`bootprof report --image, ${EVENTS} events`, `${report.wall.toFixed(0)} ms wall, ${report.cpu.toFixed(0)} ms CPU, ${(report.rss / 1024).toFixed(0)} MiB peak`, `${s.toFixed(2)} s`, '<= 5 s', s <= 5);
}

// ---- 4. start-up -------------------------------------------------------------------------------
function startupBench() {
  const profile = join(cache, 'ten.list');
  writeFileSync(profile, ['/usr/bin/bash', '/etc/passwd', '/usr/lib/x', '/bin/sh', '/etc/hosts', '/usr/share/a', '/usr/share/b', '/lib/c', '/lib/d', '/lib/e'].join('\n') + '\n');
  const [bare, version, help, sort] = sideBySide(
    [
      { argv: [process.execPath, '-e', '0'] },
      { argv: [process.execPath, cli, '--version'] },
      { argv: [process.execPath, cli, '--help'] },
      { argv: [process.execPath, cli, 'sort', profile, '-o', join(cache, 'ten.sort')] },
    ],
    Math.max(ROUNDS, 7),
  );
  row('node -e 0', `${bare.wall.toFixed(0)} ms wall, ${bare.cpu.toFixed(0)} ms CPU`, '1.00x', 'reference', true);
  for (const [name, r] of [['bootprof --version', version], ['bootprof --help', help], ['bootprof sort, 10-line profile (whole run)', sort]]) {
    const ratio = r.wall / bare.wall;
    row(name, `${r.wall.toFixed(0)} ms wall, ${r.cpu.toFixed(0)} ms CPU`, `${ratio.toFixed(2)}x wall, ${(r.cpu / bare.cpu).toFixed(2)}x CPU`, '<= 2x', ratio <= 2);
  }
}

if (!existsSync(cli)) throw new Error('dist/cli/main.js is missing: npm run build');
// a `tsc` after the build leaves the cached --help text stale, and --help then goes through yargs
const helpCache = join(dist, 'cli', 'help.txt');
if (!existsSync(helpCache) || readdirSync(join(dist, 'cli'), { recursive: true }).some((f) => String(f).endsWith('.js') && statSync(join(dist, 'cli', String(f))).mtimeMs > statSync(helpCache).mtimeMs)) {
  throw new Error('dist/cli/help.txt is missing or older than dist/cli: npm run build');
}
const started = new Date().toISOString();
const load0 = loadavg()[0];
await parseRates();
sortBench();
reportBench();
startupBench();
const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
const table = [
  '# Speed (issue 12)',
  '',
  `Generated by \`${process.env.BENCH_ROWS ? 'npm run bench' : 'node --expose-gc scripts/bench-speed.mjs'}\` at ${commit} on ${started}: ${cpus().length} cores, load average ${load0.toFixed(1)} to ${loadavg()[0].toFixed(1)} (a machine shared with other jobs: wall times swing with it, CPU times less so).`,
  `Parse rates are in process, median of 3; whole processes are medians of alternating side-by-side rounds.`,
  '',
  '| measured | figures | ratio | target | verdict |',
  '|---|---|---:|---:|---|',
  ...[...rows, ...recordedRows().map((r) => ({ ...r, verdict: r.pass ? 'PASS' : '**FAIL**' }))].map((r) => `| ${[r.goal, r.measured, r.ratio, r.target, r.verdict].map((c) => c.replaceAll('|', '\\|')).join(' | ')} |`),
  '',
  '',
].join('\n');
// the notes written below the table (earlier runs, what changed, what is not met) stay
const results = join(repo, 'bench', 'results', 'speed.md');
const before = existsSync(results) ? readFileSync(results, 'utf8').split('\n') : [];
const tableEnd = before.findIndex((line, i) => i > 0 && before[i - 1].startsWith('|') && !line.startsWith('|'));
const notes = tableEnd === -1 ? '' : before.slice(tableEnd).join('\n').replace(/^\n+/, '');
writeFileSync(results, notes === '' ? table : `${table}${notes}`);
process.stdout.write(`\nwritten to bench/results/speed.md\n`);
