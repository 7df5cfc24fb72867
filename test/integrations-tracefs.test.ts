/**
 * The early-boot files under integrations/tracefs: the arm and save scripts run in the VM test
 * (test/capture-tracefs.test.ts, bp_tracefs=1); here every shell script parses, the systemd unit
 * passes systemd-analyze, and the two scripts do their writes on a tracefs-shaped directory.
 */
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../integrations/tracefs/', import.meta.url));
const scripts = [
  'bootprof-tracefs-arm',
  'bootprof-tracefs-save',
  'initramfs-tools/hooks/bootprof-tracefs',
  'initramfs-tools/scripts/init-top/bootprof-tracefs',
];

for (const name of scripts) {
  t.test(name, async (t) => {
    const path = dir + name;
    t.ok(statSync(path).mode & 0o100, 'executable');
    for (const shell of ['sh', 'busybox']) {
      const args = shell === 'busybox' ? ['sh', '-n', path] : ['-n', path];
      const r = spawnSync(shell, args, { encoding: 'utf8' });
      t.equal(r.status, 0, `${shell} sh -n: ${r.stderr}`);
    }
    // only the initramfs-tools scripts take "prereqs"; the others would act on this machine's tracefs
    if (name.startsWith('initramfs-tools/')) {
      const prereqs = spawnSync('sh', [path, 'prereqs'], { encoding: 'utf8', cwd: t.testdir() });
      t.equal(prereqs.status, 0, 'answers prereqs without doing anything');
      t.equal(prereqs.stdout.trim(), '', 'no prerequisites');
    }
  });
}

t.test('the systemd unit', async (t) => {
  const r = spawnSync('systemd-analyze', ['verify', `${dir}systemd/bootprof-tracefs-save.service`], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr, '', 'no warnings');
});

/** A tracefs-shaped directory whose instance `bootprof` already exists (the kernel fills it on mkdir). */
function fakeTracefs(dir: string): { tracefs: string; instance: string } {
  const tracefs = join(dir, 'tracing');
  const instance = join(tracefs, 'instances', 'bootprof');
  for (const sub of ['options', 'events/filemap/mm_filemap_add_to_page_cache', 'events/sched/sched_process_exec', 'per_cpu/cpu0', 'per_cpu/cpu1']) {
    mkdirSync(join(instance, sub), { recursive: true });
  }
  mkdirSync(join(tracefs, 'events', 'bootprof_open'), { recursive: true }); // as if the kprobe exists already
  mkdirSync(join(instance, 'events', 'bootprof_open'), { recursive: true });
  writeFileSync(join(tracefs, 'kprobe_events'), '');
  return { tracefs, instance };
}

t.test('bootprof-tracefs-arm: buffer sized from RAM and CPUs, overwrite off, events on', async (t) => {
  const { tracefs, instance } = fakeTracefs(t.testdir());
  const r = spawnSync('busybox', ['sh', `${dir}bootprof-tracefs-arm`], { encoding: 'utf8', env: { PATH: process.env.PATH, BOOTPROF_TRACEFS: tracefs } });
  t.equal(r.status, 0, r.stderr);
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
  const n = spawnSync('sh', ['-c', 'ls -d /sys/devices/system/cpu/cpu[0-9]* | wc -l'], { encoding: 'utf8' }).stdout.trim();
  const expected = Math.max(1024, Math.min(16384, Math.floor(memKb / 16 / Number(n))));
  t.ok(Number(n) >= cpus().length, `${n} CPUs`);
  const at = (p: string): string => readFileSync(join(instance, p), 'utf8');
  t.equal(at('buffer_size_kb'), `${expected}\n`, `min(16 MiB, RAM/16/CPUs) = ${expected} KiB per CPU`);
  t.equal(at('options/overwrite'), '0\n');
  t.equal(at('events/filemap/mm_filemap_add_to_page_cache/enable'), '1\n');
  t.equal(at('events/sched/sched_process_exec/enable'), '1\n');
  t.equal(at('events/bootprof_open/enable'), '1\n');
  t.equal(at('tracing_on'), '1\n');
  t.match(r.stderr, new RegExp(`armed .*instances/bootprof: ${expected} KiB per CPU`));
  const fixed = spawnSync('busybox', ['sh', `${dir}bootprof-tracefs-arm`], { encoding: 'utf8', env: { PATH: process.env.PATH, BOOTPROF_TRACEFS: tracefs, BOOTPROF_BUF_KB: '4096' } });
  t.equal(fixed.status, 0);
  t.equal(at('buffer_size_kb'), '4096\n', 'BOOTPROF_BUF_KB wins');
});

t.test('bootprof-tracefs-save: the log, the per-CPU stats and the loss in one line', async (t) => {
  const work = t.testdir();
  const { tracefs, instance } = fakeTracefs(work);
  writeFileSync(join(instance, 'trace'), '# tracer: nop\n');
  writeFileSync(join(instance, 'per_cpu', 'cpu0', 'stats'), 'entries: 5\noverrun: 0\ncommit overrun: 0\ndropped events: 0\n');
  writeFileSync(join(instance, 'per_cpu', 'cpu1', 'stats'), 'entries: 5\noverrun: 2\ncommit overrun: 0\ndropped events: 3\n');
  const out = join(work, 'out');
  const r = spawnSync('busybox', ['sh', `${dir}bootprof-tracefs-save`, out, '--keep'], { encoding: 'utf8', env: { PATH: process.env.PATH, BOOTPROF_TRACEFS: tracefs } });
  t.equal(r.status, 0, r.stderr);
  t.equal(readFileSync(join(out, 'tracefs-trace.txt'), 'utf8'), '# tracer: nop\n');
  t.match(readFileSync(join(out, 'tracefs-stats.txt'), 'utf8'), /^cpu0\nentries: 5\n[^]*^cpu1\nentries: 5\noverrun: 2\n/m);
  t.match(r.stderr, /saved .*tracefs-trace\.txt; 5 events lost/);
  t.equal(readFileSync(join(instance, 'tracing_on'), 'utf8'), '0\n', 'stopped');
  const missing = spawnSync('busybox', ['sh', `${dir}bootprof-tracefs-save`, out], { encoding: 'utf8', env: { PATH: process.env.PATH, BOOTPROF_TRACEFS: join(work, 'none') } });
  t.equal(missing.status, 1);
  t.match(missing.stderr, /does not exist: was bootprof-tracefs-arm run this boot\?/);
});
