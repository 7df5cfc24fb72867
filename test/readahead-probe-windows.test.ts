// readahead --ranges also reads the windows that the kernel and udev's blkid probe on the loop
// device and on the medium, so that after the sweep those probes find their pages cached. Real
// mksquashfs and xorriso images; the reader is the bench's boot-time loop (dd per line).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { PROBE_WINDOW_SETS, resolveWindows } from '../src/emit/probe-windows.js';
import { openImage } from '../src/image/open.js';
import { runCli } from './helpers/cli.js';
import { mksquashfs } from './helpers/squashfs-tools.js';
import { randomBytes } from './helpers/squashfs-tree.js';

const MIB = 1024 * 1024;

interface Line {
  offset: number;
  length: number;
  medium: boolean;
}

function parseLines(text: string): Line[] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [offset, length, where] = l.split(' ');
      return { offset: Number(offset), length: Number(length), medium: where === 'medium' };
    });
}

t.test('windows are clipped to the device, counted from its end when negative', (t) => {
  t.same(resolveWindows(PROBE_WINDOW_SETS.udev, 3 * MIB), [
    [0, 1.125 * MIB],
    [2 * MIB, 2.125 * MIB],
    [3 * MIB - 640 * 1024, 3 * MIB],
  ]);
  t.same(resolveWindows(PROBE_WINDOW_SETS.udev, 100 * 1024), [
    [0, 100 * 1024],
    [0, 100 * 1024],
  ], 'a tiny device: every window is all of it');
  t.same(resolveWindows(PROBE_WINDOW_SETS.none, 3 * MIB), []);
  t.end();
});

t.test('an ISO: loopback windows join the ranges, medium windows get their own lines, one sweep', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  // 9 MiB that do not compress: the loopback is longer than the 4 MiB window
  writeFileSync(join(root, 'usr/lib/big.so'), randomBytes(7, 9 * MIB));
  writeFileSync(join(root, 'usr/lib/small.conf'), 'x = 1\n');
  const sq = join(dir, 'filesystem.squashfs');
  mksquashfs(root, sq, ['-b', '131072', '-no-xattrs']);
  const isoDir = join(dir, 'iso');
  mkdirSync(join(isoDir, 'live'), { recursive: true });
  execFileSync('cp', [sq, join(isoDir, 'live/filesystem.squashfs')]);
  const iso = join(dir, 'live.iso');
  execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-o', iso, isoDir], { stdio: ['ignore', 'ignore', 'pipe'] });
  const opened = openImage(iso);
  const layout = opened.layout;
  opened.close();
  const base = layout.squashfsOffset!;
  const loopSize = statSync(sq).size;
  const isoSize = statSync(iso).size;
  t.ok(base > 0 && loopSize > 5 * MIB, 'the squashfs sits inside the ISO, past its first 5 MiB');

  const events = join(dir, 'events.tsv');
  writeFileSync(
    events,
    [
      '#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath',
      '0\t1000\tread\t1\tinit\t-\t-\t6291456\t4096\t/usr/lib/big.so',
      '1\t2000\tread\t1\tinit\t-\t-\t0\t6\t/usr/lib/small.conf',
      '',
    ].join('\n'),
  );
  const none = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap', '0', '--image', iso, events]);
  t.equal(none.status, 0, none.stderr);
  const boot = parseLines(none.stdout);
  t.notOk(boot.some((l) => l.medium), 'none: no medium line');
  const res = runCli(['readahead', '--ranges', '--gap', '0', '--image', iso, events]);
  t.equal(res.status, 0, res.stderr);
  t.match(res.stderr, /probe windows \(udev\): \d+ bytes more, \d+ of the \d+ lines on the medium's device/);
  const lines = parseLines(res.stdout);

  // every range the boot read is still read
  const loop = lines.filter((l) => !l.medium);
  for (const b of boot) t.ok(loop.some((l) => l.offset <= b.offset && b.offset + b.length <= l.offset + l.length), `boot range ${b.offset}+${b.length} kept`);
  // loopback windows: its start, 2 and 4 MiB, and its end
  const coveredLoop = (s: number, e: number): boolean => loop.some((l) => l.offset <= s && e <= l.offset + l.length);
  t.ok(coveredLoop(0, 1.125 * MIB), 'the loopback\'s first 1.125 MiB');
  t.ok(coveredLoop(2 * MIB, 2 * MIB + 131072) && coveredLoop(4 * MIB, 4 * MIB + 131072), 'the loopback at 2 and 4 MiB');
  t.ok(coveredLoop(loopSize - 640 * 1024, loopSize), 'the loopback\'s last 640 KiB');
  // medium windows: start, 2 and 4 MiB absolute, and the end counted from the end
  const medium = lines.filter((l) => l.medium);
  t.same(medium, [
    { offset: 0, length: 1.125 * MIB, medium: true },
    { offset: 2 * MIB, length: 131072, medium: true },
    { offset: 4 * MIB, length: 131072, medium: true },
    { offset: -640 * 1024, length: 640 * 1024, medium: true },
  ]);
  // one sweep: lines in the order of their bytes on the medium
  const position = (l: Line): number => (l.medium ? (l.offset < 0 ? isoSize + l.offset : l.offset) : base + l.offset);
  const positions = lines.map(position);
  t.same(positions, [...positions].sort((a, b) => a - b), 'position order on the medium');

  // the boot-time reader: loopback lines from the squashfs, medium lines from the ISO (the end
  // counted from its size), into sparse copies that then hold exactly those bytes
  const rangesFile = join(dir, 'readahead.ranges');
  writeFileSync(rangesFile, res.stdout);
  const loopCopy = join(dir, 'loop.copy');
  const mediumCopy = join(dir, 'medium.copy');
  const reader = [
    'size=$(stat -c %s "$2")',
    'while read -r off len where rest; do',
    '  src=$1; dst=$3',
    '  if [ "$where" = medium ]; then src=$2; dst=$4; [ "$off" -lt 0 ] && off=$((size + off)); fi',
    '  dd if="$src" of="$dst" bs=64K iflag=skip_bytes,count_bytes oflag=seek_bytes conv=notrunc,sparse skip="$off" seek="$off" count="$len" status=none',
    'done < "$5"',
  ].join('\n');
  execFileSync('sh', ['-c', reader, 'reader', sq, iso, loopCopy, mediumCopy, rangesFile]);
  const isoBytes = readFileSync(iso);
  const mediumBytes = readFileSync(mediumCopy);
  const endStart = isoSize - 640 * 1024;
  t.ok(mediumBytes.subarray(endStart, isoSize).equals(isoBytes.subarray(endStart, isoSize)), 'the medium\'s last 640 KiB read from the end');
  t.ok(mediumBytes.subarray(0, 1.125 * MIB).equals(isoBytes.subarray(0, 1.125 * MIB)), 'the medium\'s first 1.125 MiB');
  const loopBytes = readFileSync(loopCopy);
  const sqBytes = readFileSync(sq);
  t.ok(loopBytes.subarray(4 * MIB, 4 * MIB + 131072).equals(sqBytes.subarray(4 * MIB, 4 * MIB + 131072)), 'the loopback at 4 MiB');

  // a bare squashfs has no medium of its own: loopback windows only
  const bare = runCli(['readahead', '--ranges', '--gap', '0', '--image', sq, events]);
  t.equal(bare.status, 0, bare.stderr);
  t.notOk(parseLines(bare.stdout).some((l) => l.medium), 'bare squashfs: no medium line');
  t.match(bare.stderr, /on the loopback only/);

  // --on-medium: the squashfs will go onto a medium (a live-build binary hook, before the ISO
  // exists): the same medium windows as the ISO gives, those from its start first, its end last
  const onMedium = runCli(['readahead', '--ranges', '--on-medium', '--gap', '0', '--image', sq, events]);
  t.equal(onMedium.status, 0, onMedium.stderr);
  const om = parseLines(onMedium.stdout);
  t.same(om.filter((l) => !l.medium), parseLines(bare.stdout), 'the loopback lines are the bare ones');
  t.same(om.filter((l) => l.medium), medium, "the medium lines are the ISO's");
  t.same(om.slice(0, 3), medium.slice(0, 3), 'the head windows first');
  t.same(om[om.length - 1], medium[3], 'the end window last');
  t.end();
});
