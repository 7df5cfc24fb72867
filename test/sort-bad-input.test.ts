import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { runCli } from './helpers/cli.js';
import { isRoot } from './helpers/sample-tree.js';

/** One line on stderr, naming the problem, exit code non-zero, no stack trace. */
function expectOneLineError(t: Test, res: { status: number | null; stderr: string; stdout: string }, pattern: RegExp): void {
  t.not(res.status, 0, 'non-zero exit');
  t.not(res.status, 70, 'not an internal error');
  t.equal(res.stdout, '', 'no data on stdout');
  const lines = res.stderr.trimEnd().split('\n');
  t.equal(lines.length, 1, `one line: ${res.stderr}`);
  t.match(lines[0], pattern);
  t.notMatch(res.stderr, /\n\s+at /, 'no stack trace');
}

t.test('missing profile', (t) => {
  const dir = t.testdir();
  expectOneLineError(t, runCli(['sort', join(dir, 'nope.list')]), /nope\.list: no such file or directory/);
  t.end();
});

t.test('binary garbage', (t) => {
  const dir = t.testdir();
  const bytes = Buffer.alloc(4096);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919 + 13) & 0xff;
  writeFileSync(join(dir, 'garbage.bin'), bytes);
  expectOneLineError(t, runCli(['sort', join(dir, 'garbage.bin')]), /garbage\.bin at byte \d+: /);
  t.end();
});

t.test('garbage after valid lines names the offset', (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, 'p.list'), Buffer.concat([Buffer.from('/etc/a\n/etc/b\n'), Buffer.from([0xff, 0xfe, 0x41, 0x0a])]));
  expectOneLineError(t, runCli(['sort', join(dir, 'p.list')]), /p\.list at byte 14: invalid UTF-8/);
  writeFileSync(join(dir, 'q.list'), '/etc/a\nrelative/path\n');
  expectOneLineError(t, runCli(['sort', join(dir, 'q.list')]), /q\.list at byte 7: line 2 is not an absolute path/);
  t.end();
});

t.test('empty profile', (t) => {
  const dir = t.testdir({ 'empty.list': '', 'blank.list': '\n\n' });
  expectOneLineError(t, runCli(['sort', join(dir, 'empty.list')]), /empty\.list at byte 0: empty file/);
  expectOneLineError(t, runCli(['sort', join(dir, 'blank.list')]), /blank\.list at byte 0: no events/);
  t.end();
});

t.test('profile with nothing left to write', (t) => {
  const dir = t.testdir({ 'p.list': '/dev/null\n/proc/1\n' });
  const res = runCli(['sort', join(dir, 'p.list')]);
  t.not(res.status, 0);
  t.match(res.stderr, /no file of the profile could be written/);
  t.end();
});

t.test('unreadable or wrong root', (t) => {
  const dir = t.testdir({ 'p.list': '/etc/a\n', 'file-not-dir': 'x', locked: { inner: 'y' } });
  const profile = join(dir, 'p.list');
  expectOneLineError(t, runCli(['sort', '--root', join(dir, 'absent'), profile]), /cannot read --root .*absent: no such file/);
  expectOneLineError(t, runCli(['sort', '--root', join(dir, 'file-not-dir'), profile]), /--root is not a directory/);
  chmodSync(join(dir, 'locked'), 0o000);
  // root ignores permissions, so run the CLI as nobody (65534) when we are root
  const res = runCli(['sort', '--root', join(dir, 'locked'), profile], isRoot ? { asUser: 65534 } : {});
  chmodSync(join(dir, 'locked'), 0o755);
  expectOneLineError(t, res, /cannot read --root .*locked: permission denied/);
  t.end();
});

t.test('bad option values are usage errors', (t) => {
  const dir = t.testdir({ 'p.list': '/etc/a\n' });
  const res = runCli(['sort', '--layout', 'middle', join(dir, 'p.list')]);
  t.equal(res.status, 2);
  t.match(res.stderr, /Invalid values/);
  const re = runCli(['sort', '--exclude', '(', join(dir, 'p.list')]);
  t.equal(re.status, 1);
  t.match(re.stderr, /invalid --exclude pattern/);
  t.end();
});
