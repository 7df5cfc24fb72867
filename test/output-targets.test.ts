/**
 * Issue 11 item 7: `-o` replaces only a regular file. A character device or a FIFO is written
 * through, a symlink is followed to its target, and a replaced file keeps its mode.
 */
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, lstatSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, runCli } from './helpers/cli.js';

const profile = '/usr/bin/bash\n/etc/passwd\n';

t.test('a symlink is followed, the link stays; a replaced file keeps its mode', (t) => {
  const dir = t.testdir({ 'list.txt': profile, 'target.sort': 'old\n' });
  const link = join(dir, 'link.sort');
  symlinkSync('target.sort', link);
  chmodSync(join(dir, 'target.sort'), 0o600);
  const res = runCli(['sort', '-o', link, join(dir, 'list.txt')]);
  t.equal(res.status, 0, res.stderr);
  t.ok(lstatSync(link).isSymbolicLink(), 'the symlink is still a symlink');
  t.equal(readlinkSync(link), 'target.sort');
  t.match(readFileSync(join(dir, 'target.sort'), 'utf8'), /^usr\/bin\/bash 32767$/m, 'the target got the sort file');
  t.equal(statSync(join(dir, 'target.sort')).mode & 0o777, 0o600, 'mode 0600 kept');
  t.end();
});

t.test('a FIFO is written through: its reader gets the data, the FIFO stays', async (t) => {
  const dir = t.testdir({ 'list.txt': profile });
  const fifo = join(dir, 'out.fifo');
  execFileSync('mkfifo', [fifo]);
  const reader = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
  let got = '';
  reader.stdout.on('data', (b: Buffer) => (got += b.toString()));
  const done = new Promise<void>((resolve) => reader.on('close', () => resolve()));
  const res = runCli(['sort', '-o', fifo, join(dir, 'list.txt')]);
  t.equal(res.status, 0, res.stderr);
  await done;
  t.match(got, /^usr\/bin\/bash 32767$/m);
  t.ok(lstatSync(fifo).isFIFO(), 'still a FIFO');
});

t.test('a character device is written through, never replaced', (t) => {
  const dir = t.testdir({ 'list.txt': profile });
  const res = runCli(['sort', '-o', '/dev/null', join(dir, 'list.txt')]);
  t.equal(res.status, 0, res.stderr);
  t.ok(lstatSync('/dev/null').isCharacterDevice(), '/dev/null is still a character device');
  t.end();
});

t.test('a directory is refused with one line', (t) => {
  const dir = t.testdir({ 'list.txt': profile, sub: {} });
  const res = runCli(['sort', '-o', join(dir, 'sub'), join(dir, 'list.txt')]);
  t.equal(res.status, 1);
  t.match(res.stderr, /it is a directory/);
  t.end();
});
