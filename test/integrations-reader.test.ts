import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runCli } from './helpers/cli.js';
import { fileBytes } from './helpers/sample-tree.js';

// The shipped boot-time reader (integrations/bootprof-readahead) run by the shells and dd's an
// initramfs has: busybox (ash + its dd applet) and dash with coreutils' dd. strace records which
// bytes of the image each dd really read.
const READER = fileURLToPath(new URL('../integrations/bootprof-readahead', import.meta.url));
const MKINITCPIO_HOOK = fileURLToPath(new URL('../integrations/mkinitcpio/hooks/bootprof-readahead', import.meta.url));

interface Traced {
  status: number | null;
  stderr: string;
  /** [offset, end) of every read of the image, in the order they happened. */
  reads: [number, number][];
}

/** Runs `script` under strace and returns the byte intervals read from `image`. */
function traced(dir: string, shell: string[], env: NodeJS.ProcessEnv, script: string[], image: string): Traced {
  const log = join(dir, `strace-${Math.random().toString(36).slice(2)}.log`);
  const res = spawnSync('/usr/bin/strace', ['-f', '-qq', '-y', '-e', 'trace=openat,lseek,read', '-e', 'signal=none', '-o', log, ...shell, ...script], {
    encoding: 'utf8',
    env,
  });
  const pos = new Map<string, number>();
  const reads: [number, number][] = [];
  const tag = `<${image}>`;
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    const m = /^(\d+)\s+(\w+)\((\d+)(<[^>]*>)?(.*)\)\s+=\s+(-?\d+)/.exec(line);
    if (!m || m[4] !== tag) continue;
    const key = `${m[1]}:${m[3]}`;
    const result = Number(m[6]);
    if (m[2] === 'lseek') {
      const whence = /SEEK_(SET|CUR)/.exec(m[5]!)?.[1];
      if (result >= 0 && whence !== undefined) pos.set(key, result);
    } else if (m[2] === 'read' && result > 0) {
      const at = pos.get(key) ?? 0;
      reads.push([at, at + result]);
      pos.set(key, at + result);
    }
  }
  return { status: res.status, stderr: res.stderr, reads };
}

function busyboxPath(dir: string): string {
  const bin = join(dir, 'busybox-bin');
  mkdirSync(bin, { recursive: true });
  for (const applet of ['sh', 'dd', 'cat', 'ls']) symlinkSync('/bin/busybox', join(bin, applet));
  return bin;
}

/** A squashfs with 40 files and the ranges a profile of 5 of them gives. */
function fixture(dir: string): { image: string; ranges: [number, number][]; list: string } {
  const root = join(dir, 'root');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  for (let i = 0; i < 40; i++) writeFileSync(join(root, `usr/lib/f${i}`), fileBytes(i + 1, 20000 + i * 3000));
  const image = join(dir, 'filesystem.squashfs');
  execFileSync('mksquashfs', [root, image, '-noappend', '-quiet', '-no-progress', '-b', '16384', '-no-xattrs'], { stdio: 'ignore' });
  const trace = join(dir, 'bootlog.list');
  writeFileSync(trace, ['/usr/lib/f3', '/usr/lib/f30', '/usr/lib/f17', '/usr/lib/f8', '/usr/lib/f39'].join('\n') + '\n');
  const res = runCli(['readahead', '--ranges', '--gap', '0', '--image', image, trace]);
  if (res.status !== 0) throw new Error(res.stderr);
  const list = join(dir, 'readahead.ranges');
  writeFileSync(list, res.stdout);
  const ranges = res.stdout
    .trim()
    .split('\n')
    .map((l) => l.split(' ').map(Number) as [number, number]);
  return { image, ranges, list };
}

t.test('the reader reads every listed range of the image, front to back, in whole pages', (t) => {
  const dir = t.testdir();
  const { image, ranges } = fixture(dir);
  t.ok(ranges.length >= 3, `several ranges (${ranges.length})`);
  const bb = busyboxPath(dir);
  const shells: [string, string[], NodeJS.ProcessEnv][] = [
    ['busybox ash + busybox dd', [join(bb, 'sh')], { PATH: bb }],
    ['dash + coreutils dd', ['/bin/dash'], { PATH: '/usr/bin:/bin' }],
  ];
  for (const [name, shell, env] of shells) {
    // LIST defaults to readahead.ranges next to IMAGE
    const run = traced(dir, shell, env, [READER, image], image);
    t.equal(run.status, 0, `${name}: exit 0`);
    const pages = ranges.reduce((n, [o, l]) => n + Math.ceil((o + l) / 4096) - Math.floor(o / 4096), 0);
    t.match(run.stderr, `bootprof-readahead: ${ranges.length} ranges, ${pages * 4096} bytes of ${image}`, `${name}: summary line`);
    for (const [o, l] of ranges) {
      let at = o;
      for (const [s, e] of run.reads) if (s <= at && e > at) at = Math.max(at, e);
      t.ok(at >= o + l, `${name}: ${o}+${l} was read`);
    }
    const inPage = run.reads.every(([s, e]) => ranges.some(([o, l]) => s >= Math.floor(o / 4096) * 4096 && e <= Math.ceil((o + l) / 4096) * 4096));
    t.ok(inPage, `${name}: nothing read outside the ranges' pages`);
    // Two ranges that share a page read that page twice (from the cache the second time).
    const forward = run.reads.every((r, i) => i === 0 || r[0] >= run.reads[i - 1]![1] || (r[0] >= run.reads[i - 1]![0] && r[0] % 4096 === 0 && r[0] + 4096 >= run.reads[i - 1]![1]));
    t.ok(forward, `${name}: forward, one sweep (${run.reads.length} reads)`);
  }
  t.end();
});

t.test('the reader does nothing when the list or the image is absent, and skips malformed lines', (t) => {
  const dir = t.testdir();
  const { image, list } = fixture(dir);
  const none = traced(dir, ['/bin/dash'], { PATH: '/usr/bin:/bin' }, [READER, image, join(dir, 'absent.ranges')], image);
  t.equal(none.status, 0);
  t.equal(none.stderr, '', 'silent');
  t.same(none.reads, [], 'the image is not read');
  const noImage = spawnSync('/bin/dash', [READER, join(dir, 'absent.squashfs'), list], { encoding: 'utf8' });
  t.equal(noImage.status, 0);
  t.equal(noImage.stderr, '');

  const bad = join(dir, 'bad.ranges');
  writeFileSync(bad, '# a comment\n\n4096 100\nx 5\n8192\n-1 10\n');
  const run = traced(dir, ['/bin/dash'], { PATH: '/usr/bin:/bin' }, [READER, image, bad], image);
  t.equal(run.status, 0);
  t.match(run.stderr, 'bootprof-readahead: 1 ranges, 4096 bytes of');
  t.match(run.stderr, '(3 malformed lines skipped)');
  t.same(run.reads, [[4096, 8192]]);
  t.end();
});

t.test('mkinitcpio hook: after archiso, reads the ranges before archiso mounts the squashfs', (t) => {
  // mkinitcpio sources every runtime hook into one busybox ash and calls its run_hook; archiso's
  // hook defines _mnt_sfs IMG MNT. A stand-in archiso hook with that one function records the call.
  const dir = t.testdir();
  const { image, ranges } = fixture(dir);
  const bb = busyboxPath(dir);
  const archisoHook = join(dir, 'archiso');
  writeFileSync(archisoHook, '_mnt_sfs() { echo "archiso _mnt_sfs $1 $2" >&2; }\n');
  const script = [
    `bootprof_archiso_hook=${archisoHook}`,
    `bootprof_reader="${join(bb, 'sh')} ${READER}"`,
    `. ${archisoHook}`,
    `. ${MKINITCPIO_HOOK}`,
    'run_hook',
    `_mnt_sfs ${image} /run/archiso/airootfs`,
    // a second mount goes straight to archiso's function
    `_mnt_sfs ${image} /again`,
  ].join('\n');
  const run = traced(dir, [join(bb, 'sh'), '-c'], { PATH: bb }, [script], image);
  t.equal(run.status, 0, run.stderr);
  const lines = run.stderr.trim().split('\n');
  t.match(lines[0], `bootprof-readahead: ${ranges.length} ranges`, 'the readahead first');
  t.equal(lines[1], `archiso _mnt_sfs ${image} /run/archiso/airootfs`, "then archiso's own _mnt_sfs, same arguments");
  t.equal(lines[2], `archiso _mnt_sfs ${image} /again`, 'once only');
  t.ok(run.reads.length > 0, 'the image was read');

  const off = spawnSync(join(bb, 'sh'), ['-c', `bootprof_readahead=0\n${script}`], { encoding: 'utf8', env: { PATH: bb } });
  t.notMatch(off.stderr, 'bootprof-readahead:', 'bootprof.readahead=0: no readahead');
  t.end();
});

t.test('systemd unit: systemd accepts it and it runs the shipped reader', (t) => {
  const unit = fileURLToPath(new URL('../integrations/systemd/bootprof-readahead.service', import.meta.url));
  const res = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8' });
  t.equal(res.status, 0, res.stderr);
  t.equal(res.stderr, '', 'no warnings');
  const text = readFileSync(unit, 'utf8');
  t.match(text, /^ExecStart=\/bin\/sh \/usr\/share\/bootprof\/bootprof-readahead \/run\/live\/medium\/live\/filesystem\.squashfs$/m);
  t.match(text, /^DefaultDependencies=no$/m, 'starts before sysinit');
  t.end();
});

t.test('bootprof-mksquashfs: mksquashfs with every option, then readahead.ranges of the image it wrote', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  for (let i = 0; i < 10; i++) writeFileSync(join(root, `usr/lib/f${i}`), fileBytes(i + 7, 25000 + i * 2000));
  const trace = join(dir, 'bootlog.list');
  writeFileSync(trace, '/usr/lib/f8\n/usr/lib/f1\n');
  const sortFile = join(dir, 'boot.sort');
  writeFileSync(sortFile, 'usr/lib/f8 100\nusr/lib/f1 99\n');
  const wrapper = fileURLToPath(new URL('../integrations/bootprof-mksquashfs', import.meta.url));
  const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
  mkdirSync(join(dir, 'out'));
  const image = join(dir, 'out/airootfs.sfs');
  const env = { PATH: process.env.PATH ?? '', BOOTPROF: `${process.execPath} ${cli}`, BOOTPROF_PROFILE: trace, BOOTPROF_READAHEAD_ARGS: '--gap 0' };
  const res = spawnSync(wrapper, [root, image, '-noappend', '-quiet', '-no-progress', '-b', '16384', '-no-xattrs', '-sort', sortFile], { encoding: 'utf8', env });
  t.equal(res.status, 0, res.stderr);
  const expected = runCli(['readahead', '--ranges', '--gap', '0', '--image', image, trace]);
  t.equal(readFileSync(join(dir, 'out/readahead.ranges'), 'utf8'), expected.stdout, 'the ranges of the image just built, next to it');
  const listing = execFileSync('unsquashfs', ['-lls', '-d', '', image], { encoding: 'utf8' });
  t.match(listing, /usr\/lib\/f8/);
  const first = runCli(['readahead', '--image', image, join(dir, 'bootlog.list')]).stdout.split('\n')[0];
  t.equal(first, '/usr/lib/f8', 'the -sort option reached mksquashfs: f8 is first in the image');

  const plain = spawnSync(wrapper, [root, join(dir, 'plain.sfs'), '-noappend', '-quiet', '-no-progress'], { encoding: 'utf8', env: { PATH: env.PATH } });
  t.equal(plain.status, 0);
  t.notOk(readdirSync(dir).includes('readahead.ranges'), 'no BOOTPROF_PROFILE: mksquashfs only');
  t.end();
});

t.test('the reader reads "medium" lines from the medium device, negative offsets from its end', (t) => {
  const dir = t.testdir();
  const { image } = fixture(dir);
  const medium = join(dir, 'medium.iso');
  writeFileSync(medium, fileBytes(99, 1_000_000));
  const list = join(dir, 'with-medium.ranges');
  writeFileSync(list, '0 96\n8192 100 medium\n20000 5000\n-8192 8192 medium\n');
  const bb = busyboxPath(dir);
  const args = [READER, image, list, medium];
  const onImage = traced(dir, [join(bb, 'sh')], { PATH: bb }, args, image);
  const onMedium = traced(dir, [join(bb, 'sh')], { PATH: bb }, args, medium);
  t.equal(onImage.status, 0, onImage.stderr);
  t.match(onImage.stderr, `bootprof-readahead: 4 ranges, ${(1 + 1 + 3 + 3) * 4096} bytes of ${image} and ${medium}`);
  t.ok(onImage.reads.length > 0, 'the image was read');
  const covers = (reads: [number, number][], from: number, to: number): boolean => {
    let at = from;
    for (const [s, e] of reads) if (s <= at && e > at) at = e;
    return at >= to;
  };
  t.ok(covers(onImage.reads, 0, 96) && covers(onImage.reads, 20000, 25000), 'the loopback lines read from the image');
  t.notOk(onImage.reads.some(([s]) => s >= 8192 && s < 12288), 'the medium line is not read from the image');
  t.ok(covers(onMedium.reads, 8192, 8292), 'a medium line read from the medium');
  t.ok(covers(onMedium.reads, 1_000_000 - 8192, 1_000_000), 'a negative offset counts from the end of the medium');
  t.equal(onMedium.reads.length, 4, 'and nothing else (1 page, then 3 pages up to the end)');

  // No medium given and none found (the image is not under a mount of a block device): skipped, said.
  const none = spawnSync(join(bb, 'sh'), [READER, image, list, join(dir, 'absent-device')], { encoding: 'utf8', env: { PATH: bb } });
  t.equal(none.status, 0);
  t.match(none.stderr, 'bootprof-readahead: 2 ranges');
  t.match(none.stderr, '(2 medium lines skipped: no readable medium device)');
  t.end();
});

t.test('live-boot component: bootprof.profiling=1 or the marker file turns readahead off instead of reading', (t) => {
  // /bin/live-boot sources the component into one shell and later calls Verify_checksums MEDIUM;
  // Bootprof_readahead_off (which writes sysfs) is replaced by a stand-in that says what it got.
  const component = fileURLToPath(new URL('../integrations/initramfs-tools/live-boot/9995-bootprof-readahead', import.meta.url));
  const dir = t.testdir();
  const bb = busyboxPath(dir);
  const medium = join(dir, 'medium');
  mkdirSync(join(medium, 'live'), { recursive: true });
  const run = (cmdline: string): string => {
    const script = [`LIVE_BOOT_CMDLINE="${cmdline}"`, `. ${component}`, 'Bootprof_readahead_off () { echo "off $1" >&2; }', `Verify_checksums ${medium}`].join('\n');
    const res = spawnSync(join(bb, 'sh'), ['-c', script], { encoding: 'utf8', env: { PATH: bb } });
    t.equal(res.status, 0, res.stderr);
    return res.stderr;
  };
  t.equal(run('boot=live bootprof.profiling=1'), `off ${medium}\n`, 'the parameter');
  t.equal(run('boot=live'), '', 'neither: nothing (no reader here, no ranges)');
  t.equal(run('boot=live bootprof.readahead=0 bootprof.profiling=1'), '', 'bootprof.readahead=0 wins');
  writeFileSync(join(medium, 'live/bootprof-profiling'), '');
  t.equal(run('boot=live'), `off ${medium}\n`, 'the marker file');
  t.end();
});
