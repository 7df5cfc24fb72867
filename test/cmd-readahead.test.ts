import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { coalesce } from '../src/emit/readahead.js';
import { runCli } from './helpers/cli.js';
import { makeIso, xorrisoReportLba } from './helpers/iso-tools.js';
import { fileBytes } from './helpers/sample-tree.js';

/** Block start of a file as squashfs-tools-ng reports it: the oracle for positions. */
function rdStat(image: string, path: string): { start: number; blocks: number[]; fragment: number } {
  const out = execFileSync('rdsquashfs', ['--stat', path, image], { encoding: 'utf8' });
  const start = Number(/Blocks start: (\d+)/.exec(out)![1]);
  const fragment = Number.parseInt(/Fragment index: (0x[0-9A-Fa-f]+)/.exec(out)![1]!, 16);
  const blocks = [...out.matchAll(/Block #\d+ size: (\d+)/g)].map((m) => Number(m[1]));
  return { start, blocks, fragment };
}

/** A byte-exact dd loop over the ranges (integrations/bootprof-readahead reads the same ranges rounded out to whole pages), writing into a sparse copy. */
const DD_LOOP =
  'while read -r off len; do dd if="$1" of="$2" bs=64K iflag=skip_bytes,count_bytes oflag=seek_bytes conv=notrunc,sparse skip="$off" seek="$off" count="$len" status=none; done < "$3"';

t.test('readahead: image order, ranges that really hold the profiled files', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  const names = Array.from({ length: 16 }, (_, i) => `usr/bin/f${String(i).padStart(2, '0')}`);
  names.forEach((n, i) => writeFileSync(join(root, n), fileBytes(i + 1, 9000 + i * 1000)));
  writeFileSync(join(root, 'usr/bin/tiny'), 'tiny file\n');
  symlinkSync('usr/bin', join(root, 'bin'));
  // The image is sorted one way, the profile reads files another way.
  const sortFile = join(dir, 'sort.txt');
  writeFileSync(sortFile, names.map((n, i) => `${n} ${(i * 7) % 16}`).join('\n') + '\n');
  const sq = join(dir, 'fs.sqfs');
  execFileSync('mksquashfs', [root, sq, '-noappend', '-quiet', '-no-progress', '-b', '4096', '-no-xattrs', '-sort', sortFile], { stdio: 'ignore' });
  const profiled = ['/usr/bin/f03', '/bin/f11', '/usr/bin/f00', '/usr/bin/f07', '/usr/bin/tiny', '/usr/bin', '/nonexistent', '/usr/bin/f03', '/usr/bin/f14'];
  const trace = join(dir, 'bootlog.list');
  writeFileSync(trace, profiled.join('\n') + '\n');

  const res = runCli(['readahead', '--image', sq, trace]);
  t.equal(res.status, 0, res.stderr);
  const list = res.stdout.trim().split('\n');
  const wanted = ['/usr/bin/f03', '/usr/bin/f11', '/usr/bin/f00', '/usr/bin/f07', '/usr/bin/f14', '/usr/bin/tiny'];
  const expected = [...wanted].sort((a, b) => {
    const pos = (p: string): number => {
      const s = rdStat(sq, p);
      return s.blocks.length > 0 ? s.start : Number.MAX_SAFE_INTEGER; // fragments are written after the blocks
    };
    return pos(a) - pos(b);
  });
  t.same(list, expected, 'files in the order of their first block (rdsquashfs --stat), symlinked path resolved');
  t.not(list.join(), wanted.join(), 'the order is the image order, not the profile order');
  t.match(res.stderr, /directory/);

  const ranges = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap', '0', '--image', sq, trace]);
  t.equal(ranges.status, 0, ranges.stderr);
  // a bootlog.list names files, not the bytes read: the files are read whole
  t.match(ranges.stderr, /bootlog\.list: names files but no byte ranges: its files are read whole/);
  const rs = ranges.stdout.trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number]);
  let sorted = true;
  for (let i = 1; i < rs.length; i++) if (rs[i]![0] <= rs[i - 1]![0] + rs[i - 1]![1]) sorted = false;
  t.ok(sorted, 'ranges in position order, coalesced (no touching or overlapping ranges with --gap 0)');
  const covered = (off: number, len: number): boolean => rs.some(([o, l]) => off >= o && off + len <= o + l);
  for (const p of wanted.filter((x) => x !== '/usr/bin/tiny')) {
    const s = rdStat(sq, p);
    let off = s.start;
    let all = true;
    for (const size of s.blocks) {
      if (!covered(off, size & 0xffffff)) all = false;
      off += size & 0xffffff;
    }
    t.ok(all, `every block of ${p} is in a range`);
  }
  const img = readFileSync(sq);
  const inodeStart = Number(img.readBigUInt64LE(64));
  const dirStart = Number(img.readBigUInt64LE(72));
  t.ok(covered(inodeStart, dirStart - inodeStart), 'the inode table is in a range');
  t.ok(covered(dirStart, 1), 'the directory table is in a range');
  const unprofiled = rdStat(sq, '/usr/bin/f01');
  t.notOk(covered(unprofiled.start, 1), 'a file the boot did not read is not');

  // Replay the ranges with the documented dd loop into an empty sparse file (plus the superblock):
  // squashfs-tools-ng must then extract every profiled file from that copy.
  const rangesFile = join(dir, 'ranges');
  writeFileSync(rangesFile, ranges.stdout);
  const copy = join(dir, 'copy.sqfs');
  execFileSync('truncate', ['-s', String(img.length), copy]);
  execFileSync('dd', [`if=${sq}`, `of=${copy}`, 'bs=96', 'count=1', 'conv=notrunc', 'status=none']);
  execFileSync('sh', ['-c', DD_LOOP, 'sh', sq, copy, rangesFile]);
  for (const p of wanted) {
    const got = execFileSync('rdsquashfs', ['-c', p, copy]);
    t.ok(got.equals(readFileSync(join(root, p))), `${p} extracted from the ranges alone`);
  }

  const wide = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap', '1000000', '--image', sq, trace]);
  t.ok(wide.stdout.trim().split('\n').length < rs.length, 'a larger --gap joins ranges');

  // Through an ISO: the same ranges, in loopback coordinates by default, ISO ones with --absolute.
  const isoRoot = join(dir, 'iso');
  mkdirSync(join(isoRoot, 'live'), { recursive: true });
  copyFileSync(sq, join(isoRoot, 'live/filesystem.squashfs'));
  const iso = join(dir, 'live.iso');
  makeIso(isoRoot, iso);
  const base = xorrisoReportLba(iso).find((r) => r.path === '/live/filesystem.squashfs')!.lba * 2048;
  const viaIso = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap', '0', '--image', iso, trace]);
  t.equal(viaIso.stdout, ranges.stdout, 'loopback-relative ranges do not depend on the container');
  const abs = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap', '0', '--absolute', '--image', iso, trace]);
  t.same(
    abs.stdout.trim().split('\n').map((l) => l.split(' ').map(Number)),
    rs.map(([o, l]) => [o + base, l]),
    '--absolute shifts by the squashfs position on the ISO',
  );
  t.same(runCli(['readahead', '--image', iso, trace]).stdout.trim().split('\n'), list, 'same list through the ISO');

  // A block trace (qemu's blk_co_preadv log) of the ISO maps to files through the layout.
  const qemuLog = join(dir, 'qemu.log');
  const reads = ['/usr/bin/f14', '/usr/bin/f07'].map((p) => {
    const s = rdStat(sq, p);
    // The whole first block: the mapper counts a compressed block once all of it was read.
    return `blk_co_preadv blk 0x55d0 bs 0x55e0 offset ${base + s.start} bytes ${s.blocks[0]! & 0xffffff} flags 0x0`;
  });
  writeFileSync(qemuLog, reads.join('\n') + '\n');
  const fromBlocks = runCli(['readahead', '--image', iso, qemuLog]);
  t.equal(fromBlocks.status, 0, fromBlocks.stderr);
  t.same(
    fromBlocks.stdout.trim().split('\n'),
    list.filter((p) => p === '/usr/bin/f14' || p === '/usr/bin/f07'),
    'block reads become files, listed in image order',
  );
  t.end();
});

t.test('coalesce joins ranges within the gap, in position order', (t) => {
  const input = [
    { offset: 5000, length: 100 },
    { offset: 0, length: 100 },
    { offset: 150, length: 50 },
    { offset: 90, length: 20 },
    { offset: 5200, length: 0 },
  ];
  t.same(coalesce(input, 0), [
    { offset: 0, length: 110 },
    { offset: 150, length: 50 },
    { offset: 5000, length: 100 },
  ]);
  t.same(coalesce(input, 40), [
    { offset: 0, length: 200 },
    { offset: 5000, length: 100 },
  ]);
  t.same(coalesce(input, 10_000), [{ offset: 0, length: 5100 }]);
  t.end();
});
