/**
 * `capture --method tracefs` outside the VM: the checks, the arming writes, the stop triggers and the
 * loss report, against a directory laid out like tracefs (the real one is exercised in
 * test/capture-tracefs.test.ts, inside the guest).
 */
import t from 'tap';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { captureWithTracefs, checkTracefsEnvironment, parseCpuStats, tracefsBufferKb } from '../src/capture/tracefs.js';
import { InputError } from '../src/errors.js';
import { runCli } from './helpers/cli.js';

const realTrace = readFileSync(fileURLToPath(new URL('./fixtures/trace/tracefs/trace.txt', import.meta.url)));
const realStats = readFileSync(fileURLToPath(new URL('./fixtures/trace/tracefs/stats.txt', import.meta.url)), 'utf8');

/** A tracefs-shaped directory with an instance of two CPUs (the kernel creates the instance's files on mkdir). */
function fakeTracefs(dir: string, options: { mounted?: boolean; armed?: boolean; lost?: boolean } = {}) {
  const tracefsDir = join(dir, 'tracing');
  const event = join(tracefsDir, 'events', 'filemap', 'mm_filemap_add_to_page_cache');
  mkdirSync(event, { recursive: true });
  for (const c of [0, 1]) mkdirSync(join(tracefsDir, 'per_cpu', `cpu${c}`), { recursive: true });
  writeFileSync(join(tracefsDir, 'kprobe_events'), '');
  const instance = join(tracefsDir, 'instances', 'bootprof');
  for (const sub of ['options', 'events/filemap/mm_filemap_add_to_page_cache', 'events/sched/sched_process_exec', 'events/bootprof_open', 'per_cpu/cpu0', 'per_cpu/cpu1']) {
    mkdirSync(join(instance, sub), { recursive: true });
  }
  writeFileSync(join(instance, 'tracing_on'), options.armed ? '1\n' : '0\n');
  writeFileSync(join(instance, 'trace'), realTrace);
  writeFileSync(join(instance, 'per_cpu', 'cpu0', 'stats'), realStats.replace(/^cpu0\n/, ''));
  writeFileSync(
    join(instance, 'per_cpu', 'cpu1', 'stats'),
    `entries: 10\noverrun: ${options.lost ? 5 : 0}\ncommit overrun: 0\nbytes: 480\noldest event ts:     1.0\nnow ts:     2.0\ndropped events: ${options.lost ? 7 : 0}\nread events: 0\n`,
  );
  const mountsFile = join(dir, 'mounts');
  writeFileSync(mountsFile, `proc /proc proc rw 0 0\n${options.mounted === false ? '' : `tracefs ${tracefsDir} tracefs rw 0 0\n`}`);
  const meminfoFile = join(dir, 'meminfo');
  writeFileSync(meminfoFile, 'MemTotal:         786432 kB\nMemFree:  1000 kB\n');
  return { sys: { tracefsDir, mountsFile, meminfoFile }, instance };
}

t.test('buffer sizing: one entry per page of RAM, doubled per CPU, at most 1/16 of RAM in all', async (t) => {
  t.equal(tracefsBufferKb(786_432, 1), 24_576, '768 MiB, 1 CPU: 24 MiB');
  t.equal(tracefsBufferKb(786_432, 2), 12_288);
  t.equal(tracefsBufferKb(16 * 1024 * 1024, 64), 8_192, '16 GiB, 64 CPUs: the 8 MiB floor');
  t.equal(tracefsBufferKb(16 * 1024 * 1024, 512), 2_048, '16 GiB, 512 CPUs: the 1/16 cap wins over the floor');
  t.equal(tracefsBufferKb(65_536, 1), 4_096, 'a tiny VM: the cap wins over the 8 MiB floor');
});

t.test('the per-CPU stats file', async (t) => {
  t.same(parseCpuStats(3, 'entries: 4\noverrun: 1\ncommit overrun: 2\nbytes: 9\ndropped events: 3\n'), {
    cpu: 3,
    entries: 4,
    overrun: 1,
    commitOverrun: 2,
    droppedEvents: 3,
  });
});

t.test('refusals come before anything is written', async (t) => {
  const dir = t.testdir();
  const { sys } = fakeTracefs(dir);
  t.throws(() => checkTracefsEnvironment({ outDir: dir, ...sys, uid: 1000 }), { name: 'InputError', message: /must run as root/ });
  const unmounted = fakeTracefs(join(dir, 'u'), { mounted: false }).sys;
  t.throws(() => checkTracefsEnvironment({ outDir: dir, ...unmounted, uid: 0 }), {
    message: /tracefs is not mounted at .*tracing: mount -t tracefs nodev /,
  });
  const noEvent = join(dir, 'n');
  mkdirSync(join(noEvent, 'tracing'), { recursive: true });
  writeFileSync(join(noEvent, 'mounts'), `tracefs ${join(noEvent, 'tracing')} tracefs rw 0 0\n`);
  t.throws(() => checkTracefsEnvironment({ outDir: dir, tracefsDir: join(noEvent, 'tracing'), mountsFile: join(noEvent, 'mounts'), uid: 0 }), {
    message: /mm_filemap_add_to_page_cache is missing/,
  });
  t.same(checkTracefsEnvironment({ outDir: dir, ...sys, uid: 0 }).armed, false);
});

t.test('arms the instance, stops on --until-file, saves the log and the loss counters', async (t) => {
  const dir = t.testdir();
  const { sys, instance } = fakeTracefs(dir);
  const flag = join(dir, 'boot-done');
  // arming clears the trace (an empty write to `trace`); the "kernel" logs the boot afterwards
  setTimeout(() => {
    writeFileSync(join(instance, 'trace'), realTrace);
    writeFileSync(flag, '');
  }, 200);
  const result = await captureWithTracefs({ outDir: join(dir, 'out'), ...sys, uid: 0, untilFile: flag, pollMs: 20, keep: true });
  t.equal(result.stoppedBy, 'until-file');
  t.ok(result.armedByUs);
  t.equal(result.bufferKb, 12_288, 'sized from MemTotal for 2 CPUs');
  const at = (p: string): string => readFileSync(join(instance, p), 'utf8');
  t.equal(at('buffer_size_kb'), '12288\n');
  t.equal(at('options/overwrite'), '0\n', 'keep the start of the boot when the buffer fills');
  t.equal(at('events/filemap/mm_filemap_add_to_page_cache/enable'), '1\n');
  t.equal(at('events/sched/sched_process_exec/enable'), '1\n');
  t.match(readFileSync(join(sys.tracefsDir, 'kprobe_events'), 'utf8'), /^p:bootprof_open\/bootprof_open do_filp_open path=\+0\(\+0\(\$arg2\)\):string\n$/);
  t.equal(at('tracing_on'), '1\n', 'restarted because of keep');
  t.same(readFileSync(result.tracePath), realTrace, 'the log copied byte for byte');
  t.match(readFileSync(result.statsPath, 'utf8'), /^cpu0\nentries: \d+\n[^]*^cpu1\nentries: 10\n/m);
  t.equal(result.lost, 0);
  t.same(result.perCpu.map((c) => c.cpu), [0, 1]);
});

t.test('an instance the early-boot script armed is adopted as it is; loss is reported', async (t) => {
  const dir = t.testdir();
  const { sys, instance } = fakeTracefs(dir, { armed: true, lost: true });
  const result = await captureWithTracefs({ outDir: join(dir, 'out'), ...sys, uid: 0, durationMs: 10 });
  t.equal(result.stoppedBy, 'duration');
  t.notOk(result.armedByUs);
  t.notOk(existsSync(join(instance, 'buffer_size_kb')), 'nothing re-armed');
  t.equal(result.lost, 12, 'overrun 5 + dropped events 7 on cpu1');
  // rmdir of a populated fake directory fails: the real tracefs removes an instance whole
  t.notOk(result.removed);
  t.ok(result.removeError);
  await t.rejects(captureWithTracefs({ outDir: join(dir, 'o2'), ...sys, uid: 0, durationMs: -1 }), InputError);
});

t.test('the CLI: --method tracefs refuses without root; --buffer-kb must be a positive integer', async (t) => {
  const dir = t.testdir();
  chmodSync(dir, 0o777);
  const r = runCli(['capture', '--method', 'tracefs', '--duration', '0', '-o', join(dir, 'out')], { asUser: 65534, cwd: dir });
  t.equal(r.status, 1, r.stderr);
  t.match(r.stderr, /^bootprof: capture --method tracefs must run as root: it arms kernel trace events$/m);
  const bad = runCli(['capture', '--method', 'tracefs', '--buffer-kb', '0', '-o', join(dir, 'out')], { asUser: 65534, cwd: dir });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /--buffer-kb must be a positive integer/);
});
