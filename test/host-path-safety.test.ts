// Paths from traces are never used to open host files outside the root or image they belong to.
// A profile full of "..", absolute host paths and symlinks that point out of the root (relative,
// absolute, to "/") is run through `sort --root`, `sort --image` and `readahead --image` under
// strace: no file system call may name the sentinel directory beside the root (the same name
// inside the root is fine: that is where a chroot sends "/.."). The sentinel is
// a FIFO, so a command that opened it for reading would block (and time out) as well.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import t, { type Test } from 'tap';
import { CLI } from './helpers/cli.js';

const SENTINEL_DIR = 'outside-sentinel-7f3a';

/** The first quoted string of an strace line is the path a file syscall names (readlink's result comes second). */
function pathsNamed(log: string): { syscall: string; path: string }[] {
  const out: { syscall: string; path: string }[] = [];
  for (const line of log.split('\n')) {
    const m = /^(?:\[pid\s+\d+\]\s+|\d+\s+)?(\w+)\((.*)$/.exec(line);
    if (!m) continue;
    const q = /"((?:[^"\\]|\\.)*)"/.exec(m[2]!);
    if (q) out.push({ syscall: m[1]!, path: q[1]! });
  }
  return out;
}

function traced(t: Test, dir: string, name: string, args: string[], expectStatus = 0): { stdout: string; stderr: string; touched: string[] } {
  const log = join(dir, `${name}.strace`);
  const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=%file', '-o', log, process.execPath, CLI, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  t.equal(r.error, undefined, `${name}: ran (no timeout: nothing blocked on the FIFO sentinel)`);
  t.equal(r.status, expectStatus, `${name}: exit ${expectStatus} (${r.stderr.trim().split('\n').slice(-1)[0]})`);
  const named = pathsNamed(readFileSync(log, 'utf8'));
  t.ok(named.length > 20, `${name}: strace saw ${named.length} file system calls`);
  // R/outside-sentinel-7f3a is inside the root (a chroot clamps ".." there): only the real directory counts.
  const outside = join(dir, SENTINEL_DIR);
  const touched = named.filter((n) => resolve(dir, n.path).startsWith(outside)).map((n) => `${n.syscall} ${n.path}`);
  return { stdout: r.stdout, stderr: r.stderr, touched };
}

t.test('hostile profile paths never reach host files outside the root or image', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  const outside = join(dir, SENTINEL_DIR);
  mkdirSync(join(outside, 'sub'), { recursive: true });
  execFileSync('mkfifo', [join(outside, 'sentinel')]);
  execFileSync('mkfifo', [join(outside, 'sub/sentinel')]);
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  mkdirSync(join(root, 'usr/share'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'usr/bin/ok'), 'inside\n');
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0::/:/bin/sh\n');
  // Out of the root: relative (one level up), absolute to the sentinel, absolute to "/", deep "..".
  symlinkSync(relative(join(root, 'usr/lib'), outside), join(root, 'usr/lib/escape'));
  symlinkSync(outside, join(root, 'etc/abs'));
  symlinkSync('/', join(root, 'etc/rootlink'));
  symlinkSync('../../../../../../../../../../..', join(root, 'usr/share/deep'));
  symlinkSync('loop2', join(root, 'loop1'));
  symlinkSync('loop1', join(root, 'loop2'));
  // A symlink whose target names the sentinel through the root-relative path of the host.
  symlinkSync(`${outside}/sub`, join(root, 'usr/share/subdir'));

  const hostile = [
    '/usr/bin/ok',
    `/../${SENTINEL_DIR}/sentinel`,
    `/usr/../../${SENTINEL_DIR}/sentinel`,
    `/usr/bin/../../../${SENTINEL_DIR}/sub/sentinel`,
    '/usr/lib/escape/sentinel',
    '/usr/lib/escape/sub/sentinel',
    '/etc/abs/sentinel',
    `/etc/rootlink${outside}/sentinel`,
    `/usr/share/deep${outside}/sentinel`,
    `/usr/share/deep/../${SENTINEL_DIR}/sentinel`,
    '/usr/share/subdir/sentinel',
    `${outside}/sentinel`,
    `${outside}/sub/../sentinel`,
    '/loop1/sentinel',
    '/etc/passwd',
  ];
  const profile = join(dir, 'bootlog.list');
  writeFileSync(profile, `${hostile.join('\n')}\n`);

  // Control: with the sentinel directory as the root, the detector must see it touched.
  const control = traced(t, dir, 'control', ['sort', '--root', outside, profile], 1);
  t.ok(control.touched.length > 0, `control: the check sees ${control.touched.length} calls on the sentinel directory when it is the root`);

  const byRoot = traced(t, dir, 'sort-root', ['sort', '--root', root, '--no-default-excludes', profile]);
  t.same(byRoot.touched, [], 'sort --root: no file system call names the sentinel directory');
  t.same(
    byRoot.stdout.split('\n').filter((l) => l !== '').map((l) => l.replace(/ -?\d+$/, '')).sort(),
    ['etc/passwd', 'usr/bin/ok'],
    'sort --root writes the two files inside the root, nothing else',
  );
  t.match(byRoot.stderr, /outside|above the root/, 'and says why the others were dropped');

  const draklive = traced(t, dir, 'sort-root-draklive', ['sort', '--root', root, '--format', 'draklive', profile]);
  t.same(draklive.touched, [], 'sort --root --format draklive: no call names the sentinel directory');
  t.notMatch(draklive.stdout, /sentinel/, 'draklive output lists no sentinel');

  const genisoimage = traced(t, dir, 'sort-root-genisoimage', ['sort', '--root', root, '--format', 'genisoimage', profile]);
  t.same(genisoimage.touched, [], 'sort --root --format genisoimage: no call names the sentinel directory');
  t.notMatch(genisoimage.stdout, /sentinel/, 'genisoimage output lists no sentinel');

  // The same tree as a squashfs: paths resolve inside the image, never on the host.
  const image = join(dir, 'root.squashfs');
  execFileSync('mksquashfs', [root, image, '-noappend', '-no-progress', '-quiet'], { stdio: 'ignore' });
  const byImage = traced(t, dir, 'sort-image', ['sort', '--image', image, '--no-default-excludes', profile]);
  t.same(byImage.touched, [], 'sort --image: no file system call names the sentinel directory');
  t.notMatch(byImage.stdout, /sentinel/, 'sort --image output lists no sentinel');
  const readahead = traced(t, dir, 'readahead-image', ['readahead', '--image', image, '--no-default-excludes', profile]);
  t.same(readahead.touched, [], 'readahead --image: no file system call names the sentinel directory');
  t.same(readahead.stdout.split('\n').filter((l) => l !== '').sort(), ['/etc/passwd', '/usr/bin/ok'], 'readahead lists the two files of the image');
  t.end();
});
