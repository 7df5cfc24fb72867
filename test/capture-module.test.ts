import t from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { captureWithModule, checkCaptureEnvironment, moduleVermagic } from '../src/capture/module.js';
import { FormatError, InputError } from '../src/errors.js';
import { buildKernelModule, findDebianKernel } from './helpers/vm/index.js';

const kernel = findDebianKernel();
const ko = (await buildKernelModule(kernel)).path;
const capturedEvents = new URL('./fixtures/trace/captured/bootprof-events.tsv', import.meta.url);

/** A system layout for the checks: mounts file, /sys/module and a debugfs directory. */
function system(dir: string, options: { debugfs?: boolean; loaded?: boolean } = {}) {
  const debugfsDir = join(dir, 'debug');
  const sysModuleDir = join(dir, 'sys-module');
  mkdirSync(debugfsDir, { recursive: true });
  mkdirSync(sysModuleDir, { recursive: true });
  const mountsFile = join(dir, 'mounts');
  writeFileSync(mountsFile, `proc /proc proc rw 0 0\n${options.debugfs === false ? '' : `debugfs ${debugfsDir} debugfs rw 0 0\n`}`);
  if (options.loaded) mkdirSync(join(sysModuleDir, 'bootprof'));
  return { debugfsDir, sysModuleDir, mountsFile };
}

t.test('vermagic is read from the module itself (agrees with modinfo)', async (t) => {
  const vermagic = moduleVermagic(ko);
  t.match(vermagic, new RegExp(`^${kernel.version.replace(/\./g, '\\.')} SMP`));
  const { stdout } = await execa('modinfo', ['-F', 'vermagic', ko]);
  t.equal(vermagic, stdout.trim());
  const dir = t.testdir({ 'text.ko': 'not a module', 'noinfo.ko': Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(100)]) });
  t.throws(() => moduleVermagic(join(dir, 'text.ko')), FormatError);
  t.throws(() => moduleVermagic(join(dir, 'noinfo.ko')), { name: 'FormatError', message: /no vermagic/ });
  t.throws(() => moduleVermagic(join(dir, 'absent.ko')), { name: 'InputError', message: /no such file/ });
});

t.test('refusals come before anything touches the kernel', async (t) => {
  const dir = t.testdir();
  const sys = system(dir);
  t.throws(() => checkCaptureEnvironment({ outDir: dir, ...sys, uid: 1000, modulePath: ko }), {
    name: 'InputError',
    message: /must run as root/,
  });
  const noDebugfs = system(join(dir, 'n'), { debugfs: false });
  t.throws(() => checkCaptureEnvironment({ outDir: dir, ...noDebugfs, uid: 0, modulePath: ko }), {
    message: /debugfs is not mounted at .*mount -t debugfs/,
  });
  t.throws(() => checkCaptureEnvironment({ outDir: dir, ...sys, uid: 0 }), { message: /not loaded: give --module/ });
  // This machine runs its own kernel, not the Debian one the module was built for.
  t.not(release(), kernel.version);
  t.throws(() => checkCaptureEnvironment({ outDir: dir, ...sys, uid: 0, modulePath: ko }), {
    name: 'InputError',
    message: new RegExp(`built for kernel ${kernel.version}, this kernel is ${release().replace(/[.+]/g, '\\$&')}`),
  });
  t.throws(() => checkCaptureEnvironment({ outDir: dir, ...sys, uid: 0, modulePath: ko, kernelRelease: '6.1.0-99-amd64' }), {
    message: /linux-headers-6\.1\.0-99-amd64.*KDIR=\/lib\/modules\/6\.1\.0-99-amd64\/build.*DKMS/,
  }, 'the refusal says what to do: headers and rebuild, or DKMS');
  t.same(checkCaptureEnvironment({ outDir: dir, ...sys, uid: 0, modulePath: ko, kernelRelease: kernel.version }), { loaded: false });
  const loaded = system(join(dir, 'l'), { loaded: true });
  t.same(checkCaptureEnvironment({ outDir: dir, ...loaded, uid: 0 }), { loaded: true }, 'a loaded module needs no .ko');
});

/** The module's debugfs files, as a directory (the real ones only exist inside the VM). */
function loadedModule(dir: string, eventsText: Buffer | string) {
  const sys = system(dir, { loaded: true });
  const bp = join(sys.debugfsDir, 'bootprof');
  mkdirSync(bp);
  writeFileSync(join(bp, 'events'), eventsText);
  writeFileSync(join(bp, 'files'), '/usr/bin/bash\n');
  writeFileSync(join(bp, 'stats'), 'produced 400\nlogged 400\ndropped 0\nbytes_used 1\nbytes_max 2\nrunning 1\n');
  writeFileSync(join(bp, 'control'), '');
  return { ...sys, control: join(bp, 'control') };
}

t.test('a capture stops on --until-file and copies the files', async (t) => {
  const dir = t.testdir();
  const sys = loadedModule(join(dir, 'sys'), readFileSync(capturedEvents));
  const flag = join(dir, 'boot-done');
  setTimeout(() => writeFileSync(flag, ''), 300);
  const result = await captureWithModule({ outDir: join(dir, 'out'), ...sys, uid: 0, untilFile: flag, pollMs: 20, keep: true });
  t.equal(result.stoppedBy, 'until-file');
  t.equal(result.stats.logged, '400');
  t.same(readFileSync(result.eventsPath), readFileSync(capturedEvents), 'events copied byte for byte');
  t.equal(readFileSync(result.filesPath, 'utf8'), '/usr/bin/bash\n');
  t.equal(readFileSync(sys.control, 'utf8'), 'start\n', 'stopped for the copy, restarted because of --keep');
  t.notOk(result.unloaded);
});

t.test('a capture stops on a signal or a duration', async (t) => {
  const dir = t.testdir();
  const sys = loadedModule(join(dir, 'sys'), readFileSync(capturedEvents));
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 100);
  const bySignal = await captureWithModule({ outDir: join(dir, 'a'), ...sys, uid: 0, signal: controller.signal, keep: true });
  t.equal(bySignal.stoppedBy, 'signal');
  const byTime = await captureWithModule({ outDir: join(dir, 'b'), ...sys, uid: 0, durationMs: 50, keep: true });
  t.equal(byTime.stoppedBy, 'duration');
  await t.rejects(captureWithModule({ outDir: join(dir, 'c'), ...sys, uid: 0, durationMs: -5 }), InputError);
});

t.test('an events file without the v1 header is refused and nothing is written', async (t) => {
  const dir = t.testdir();
  const sys = loadedModule(join(dir, 'sys'), 'seq\ttime\n0\t1\n');
  await t.rejects(captureWithModule({ outDir: join(dir, 'out'), ...sys, uid: 0, durationMs: 0, keep: true }), {
    name: 'FormatError',
    message: /at byte 0: does not start with the #bootprof-events v1 header/,
  });
  t.notOk(existsSync(join(dir, 'out', 'bootprof-events.tsv')));
});

t.test('a capture reports every loss: drops, kprobe misses, seq gaps and bad rows', async (t) => {
  const dir = t.testdir();
  const header = '#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath\n';
  const sys = loadedModule(join(dir, 'sys'), `${header}0\t1\topen\t1\tc\t-\t-\t-\t-\t/a\n2\t2\topen\t1\tc\t-\t-\t-\t-\t/b\nx\n`);
  writeFileSync(join(sys.debugfsDir, 'bootprof', 'stats'),
    'produced 10\nlogged 3\ndropped 7\nfull 1\nmissed 5\nmissed_open 4\nmissed_read 1\nmissed_sqread 0\n');
  const result = await captureWithModule({ outDir: join(dir, 'out'), ...sys, uid: 0, durationMs: 0, keep: true });
  t.match(result.losses, [
    /^7 of 10 events dropped when the log filled \(it holds the first 3\): load the module with a larger buf_kb=$/,
    /^5 events missed by the kprobe layer \(open 4, read 1, sqread 0\)/,
    /bootprof-events\.tsv: 1 events missing \(gaps in seq\)/,
    /bootprof-events\.tsv: row skipped: .* at byte \d+: line 4: 1 fields, expected 10/,
  ]);
  t.equal(result.losses.length, 4);
  const clean = loadedModule(join(dir, 'clean'), readFileSync(capturedEvents));
  t.same((await captureWithModule({ outDir: join(dir, 'out2'), ...clean, uid: 0, durationMs: 0, keep: true })).losses, [], 'no loss, no message');
});
