import t from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { kvmUsable } from '../src/capture/qemu.js';
import { withQemuLock } from './helpers/vm/qemu-lock.js';

const repo = fileURLToPath(new URL('..', import.meta.url));
const tsImport = new URL('../node_modules/@tapjs/typescript/dist/esm/import.mjs', import.meta.url).href;

function bootprof(args: string[]) {
  return execa('node', ['--import', tsImport, join(repo, 'src/cli/main.ts'), ...args], {
    reject: false,
    env: { TS_NODE_TRANSPILE_ONLY: '1' },
  });
}

t.test('capture --qemu without --iso is refused', async (t) => {
  const r = await bootprof(['capture', '--qemu', '-o', t.testdir()]);
  t.equal(r.exitCode, 1);
  t.match(r.stderr, /^bootprof: --qemu needs --iso IMG$/m);
});

t.test('capture --qemu stops a guest that does not power off, keeps its trace, exits 6', async (t) => {
  const dir = t.testdir();
  mkdirSync(join(dir, 'root'));
  writeFileSync(join(dir, 'root', 'a.txt'), 'a\n');
  await execa('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-o', join(dir, 'x.iso'), join(dir, 'root')]);
  const out = join(dir, 'out');
  const r = await withQemuLock(() =>
    // 10 s: the guest's first CD read must land in the trace even on a loaded machine
    bootprof(['capture', '--qemu', '--iso', join(dir, 'x.iso'), '--timeout', '10', '--accel', 'tcg', '-o', out]),
  );
  t.equal(r.exitCode, 6, `a timeout has its own exit code (6): ${r.stderr}`);
  t.match(r.stderr, /timed out after \d+\.\d s \(tcg\); wrote .*qemu-trace\.log/);
  t.match(r.stderr, /did not power off within 10 s; the trace so far is kept/);
  t.equal(r.stdout, '', 'nothing on stdout');
  t.match(readFileSync(join(out, 'qemu-trace.log'), 'utf8'), /ide_atapi_cmd_read .*LBA=17 /);
  t.ok(existsSync(join(out, 'console.log')));
});

t.test('capture --qemu --accel kvm: a silent guest gets a hint, and stays under KVM as asked', async (t) => {
  const dir = t.testdir();
  mkdirSync(join(dir, 'root'));
  writeFileSync(join(dir, 'root', 'a.txt'), 'a\n');
  await execa('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-o', join(dir, 'x.iso'), join(dir, 'root')]);
  const r = await withQemuLock(() =>
    bootprof(['capture', '--qemu', '--iso', join(dir, 'x.iso'), '--timeout', '25', '--accel', 'kvm', '-o', join(dir, 'out')]),
  );
  if (!kvmUsable()) {
    // no /dev/kvm here: asking for KVM is refused in one line
    t.equal(r.exitCode, 1, r.stderr);
    t.match(r.stderr, /^bootprof: KVM requested but \/dev\/kvm is not usable$/m);
    return;
  }
  // the boot-record-only ISO never writes a console byte, whether KVM works here or hangs guests
  t.equal(r.exitCode, 6, r.stderr);
  t.match(r.stderr, /KVM: the guest has written nothing for 20 s; where KVM hangs guests .*--accel auto or tcg/);
  t.match(r.stderr, /timed out after \d+\.\d s \(kvm\)/);
});

t.test('in-VM capture refuses on a machine where it cannot work', async (t) => {
  const out = t.testdir();
  const r = await bootprof(['capture', '--module', join(out, 'missing.ko'), '--duration', '0', '-o', out]);
  t.equal(r.exitCode, 1);
  // The host runs its own kernel: whichever check comes first, the message says why.
  t.match(r.stderr, /^bootprof: (capture must run as root|debugfs is not mounted at|cannot read module .*missing\.ko: no such file)/m);
  const ftrace = await bootprof(['capture', '--method', 'ftrace', '-o', out]);
  t.equal(ftrace.exitCode, 2, 'an unknown method is a usage error');
  t.match(ftrace.stderr, /Argument: method, Given: "ftrace", Choices: "kmod", "tracefs"/);
});
