import { execFileSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { FileSource } from '../src/image/source.js';
import { openSquashfs, readFile, squashfsLayout, type SquashfsEntry, type SquashfsImage } from '../src/image/squashfs/index.js';
import { makeSquashfsTree, type TreeSpec } from './helpers/squashfs-tree.js';
import { mksquashfs, rdStat, rdXattrs } from './helpers/squashfs-tools.js';
import { dataExtentsByFile, reassembleFromLayout } from './helpers/squashfs-reassemble.js';

interface Case {
  name: string;
  args: string[];
  compressor: string;
  blockSize: number;
}

const CASES: Case[] = [
  { name: 'gzip', args: ['-comp', 'gzip'], compressor: 'gzip', blockSize: 131072 },
  { name: 'xz', args: ['-comp', 'xz'], compressor: 'xz', blockSize: 131072 },
  { name: 'lzma', args: ['-comp', 'lzma'], compressor: 'lzma', blockSize: 131072 },
  { name: 'lzo', args: ['-comp', 'lzo'], compressor: 'lzo', blockSize: 131072 },
  { name: 'lz4', args: ['-comp', 'lz4'], compressor: 'lz4', blockSize: 131072 },
  { name: 'lz4-hc', args: ['-comp', 'lz4', '-Xhc'], compressor: 'lz4', blockSize: 131072 },
  { name: 'zstd', args: ['-comp', 'zstd'], compressor: 'zstd', blockSize: 131072 },
  { name: 'lzo1x_1', args: ['-comp', 'lzo', '-Xalgorithm', 'lzo1x_1'], compressor: 'lzo', blockSize: 131072 },
  { name: 'gzip window 8, level 1', args: ['-Xwindow-size', '8', '-Xcompression-level', '1'], compressor: 'gzip', blockSize: 131072 },
  { name: 'gzip 4K blocks', args: ['-b', '4K'], compressor: 'gzip', blockSize: 4096 },
  { name: 'zstd 1M blocks', args: ['-comp', 'zstd', '-b', '1M'], compressor: 'zstd', blockSize: 1 << 20 },
  { name: 'lzo 4K blocks', args: ['-comp', 'lzo', '-b', '4K'], compressor: 'lzo', blockSize: 4096 },
  { name: '-no-fragments', args: ['-no-fragments'], compressor: 'gzip', blockSize: 131072 },
  { name: '-always-use-fragments', args: ['-always-use-fragments'], compressor: 'gzip', blockSize: 131072 },
  { name: '-tailends', args: ['-tailends', '-comp', 'lz4'], compressor: 'lz4', blockSize: 131072 },
  { name: '-no-duplicates', args: ['-no-duplicates'], compressor: 'gzip', blockSize: 131072 },
  { name: 'uncompressed everything', args: ['-noI', '-noD', '-noF', '-noX'], compressor: 'gzip', blockSize: 131072 },
  { name: 'no exports, no xattrs', args: ['-no-exports', '-no-xattrs', '-comp', 'xz', '-b', '64K'], compressor: 'xz', blockSize: 65536 },
];

const TYPE_OF_STAT = (mode: number): SquashfsEntry['type'] => {
  switch (mode & 0o170000) {
    case 0o040000:
      return 'dir';
    case 0o100000:
      return 'file';
    case 0o120000:
      return 'symlink';
    case 0o060000:
      return 'blockdev';
    case 0o020000:
      return 'chardev';
    case 0o010000:
      return 'fifo';
    default:
      return 'socket';
  }
};

const dir = t.testdir();
const source = join(dir, 'src');
const spec = makeSquashfsTree(source, { special: true, sparse: true, xattrs: true, bigDirectory: 320 });

for (const c of CASES) {
  t.test(c.name, (t) => {
    const image = join(dir, `${c.name.replace(/[^a-z0-9]+/gi, '_')}.sqfs`);
    mksquashfs(source, image, c.args);
    const src = new FileSource(image);
    t.teardown(() => src.close());
    const img = openSquashfs(src);
    t.equal(img.compressor, c.compressor, 'compressor');
    t.equal(img.blockSize, c.blockSize, 'block size');
    checkTree(t, img, image);
    checkFiles(t, img, image, c);
    if (!c.args.includes('-no-xattrs')) checkXattrs(t, img, image, spec);
    else t.notOk(img.entries.some((e) => e.xattrs), 'no entry has xattrs');
    checkLayout(t, img, src.size, c);
    t.end();
  });
}

/** Every source path is there with the same type, mode, owner, mtime; the order is unsquashfs's. */
function checkTree(t: Test, img: SquashfsImage, image: string): void {
  const listed = execFileSync('unsquashfs', ['-l', '-d', 'R', image], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l === 'R' || l.startsWith('R/'))
    .map((l) => (l === 'R' ? '/' : l.slice(1)));
  t.same(img.entries.map((e) => e.path), listed, 'entries in unsquashfs -l order');
  t.equal(img.entries[0]!.path, '/', 'root first');
  let mismatches = 0;
  for (const e of img.entries) {
    const st = lstatSync(join(source, e.path));
    const got = { type: e.type, mode: e.mode, uid: e.uid, gid: e.gid, mtime: e.mtime };
    const want = { type: TYPE_OF_STAT(st.mode), mode: st.mode, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
    if (e.path !== '/' && JSON.stringify(got) !== JSON.stringify(want)) {
      if (mismatches++ < 5) t.same(got, want, `${e.path} metadata`);
    }
    if (e.type === 'symlink') t.equal(e.symlinkTarget, spec.symlinks.get(e.path.slice(1)), `${e.path} target`);
    if (e.type === 'chardev' || e.type === 'blockdev') {
      const [type, major, minor] = spec.devices.get(e.path.slice(1))!;
      const rdev = e.rdev!;
      t.same([e.type, (rdev >> 8) & 0xfff, (rdev & 0xff) | ((rdev >> 12) & 0xfff00)], [type === 'c' ? 'chardev' : 'blockdev', major, minor], `${e.path} device number`);
    }
  }
  t.equal(mismatches, 0, 'type, mode, uid, gid, mtime of every entry match lstat of the source');
  for (const [a, b] of spec.hardlinks) {
    t.equal(img.lookup(`/${a}`)!.inode, img.lookup(`/${b}`)!.inode, `hardlinks ${a} and ${b} share an inode number`);
    t.equal(img.lookup(`/${a}`)!.nlink, 2, 'hardlink count');
  }
  const numbers = new Set(img.entries.map((e) => e.inode));
  t.equal(numbers.size, img.entries.length - spec.hardlinks.length, 'inode numbers are unique except hardlinks');
  t.equal(img.superblock.inodes, numbers.size, 'superblock inode count');
  t.equal(img.lookup('/no/such/file'), undefined, 'lookup of a missing path');
  t.equal(img.lookup('/many')!.inodeType, 8, 'the 320-entry directory has an extended inode (with a directory index)');
  t.equal(img.entries.filter((e) => e.path.startsWith('/many/')).length, 320, 'all 320 entries listed');
}

/** Every regular file: readFile and the layout reassemble the source bytes; rdsquashfs agrees on placement. */
function checkFiles(t: Test, img: SquashfsImage, image: string, c: Case): void {
  const { files, extents } = squashfsLayout(img, 0);
  const byFile = dataExtentsByFile(extents);
  const index = new Map(files.map((f, i) => [f.path, i]));
  let checkedStat = 0;
  let bad = 0;
  for (const e of img.entries) {
    if (e.type !== 'file') continue;
    const want = spec.files.get(e.path.slice(1))!;
    const viaRead = readFile(img, e);
    const i = index.get(e.path)!;
    const viaLayout = reassembleFromLayout(img, files, extents, byFile, i, e, 0);
    if (!viaRead.equals(want) || !viaLayout.equals(want)) {
      bad++;
      t.fail(`${e.path}: content differs (readFile ${viaRead.equals(want)}, layout ${viaLayout.equals(want)})`);
    }
    // rdsquashfs is one process per file: every file outside the big directory, every 40th inside.
    const inMany = e.path.startsWith('/many/');
    if (inMany && Number(e.path.slice(-5)) % 40 !== 0) continue;
    checkedStat++;
    const st = rdStat(image, e.path);
    const ours = {
      inodeNumber: e.inode,
      fileSize: e.size,
      fragmentIndex: e.fragment ? e.fragment.index : 0xffffffff,
      fragmentOffset: e.fragment ? e.fragment.offsetInBlock : 0,
      blocksStart: e.blocks!.length > 0 || e.fragment === undefined ? e.blocks![0]?.offset ?? st.blocksStart : st.blocksStart,
      blocks: e.blocks!.map((b) => ({ size: b.size, uncompressed: b.uncompressed })),
    };
    const theirs = {
      inodeNumber: st.inodeNumber,
      fileSize: st.fileSize,
      fragmentIndex: st.fragmentIndex,
      fragmentOffset: st.fragmentOffset,
      blocksStart: st.blocksStart,
      // rdsquashfs prints sparse blocks as "0 (compressed)"
      blocks: st.blocks.map((b) => ({ size: b.size, uncompressed: b.size !== 0 && b.uncompressed })),
    };
    t.same(ours, theirs, `${e.path} agrees with rdsquashfs --stat`);
  }
  t.equal(bad, 0, `every regular file reassembles to the source bytes (${files.length} files)`);
  t.ok(checkedStat > 20, `${checkedStat} files checked against rdsquashfs --stat`);

  const sparse = img.lookup('/bin/sparse')!;
  t.ok(sparse.blocks!.some((b) => b.sparse), 'the sparse file has sparse blocks');
  t.ok(sparse.inodeType === 9, 'the sparse file has an extended inode');
  const noise = img.lookup('/bin/noise-300000')!;
  if (!c.args.includes('-noD')) t.ok(noise.blocks!.every((b) => b.uncompressed), 'incompressible blocks are stored uncompressed');
  const dup = index.get('/text/dup-of-400000')!;
  const orig = index.get('/text/t-400000')!;
  const [first, second] = dup < orig ? [dup, orig] : [orig, dup];
  if (c.args.includes('-no-duplicates')) t.equal(files[second]!.sameDataAs, undefined, 'no shared data with -no-duplicates');
  else t.equal(files[second]!.sameDataAs, first, 'a duplicate shares the data of the first copy');
  const hl = [index.get('/text/t-131073')!, index.get('/deep/hardlink-131073')!].sort((a, b) => a - b);
  t.equal(files[hl[1]!]!.sameDataAs, hl[0], 'a hardlink shares the data of the first name');
  const t4097 = img.lookup('/text/t-4097')!;
  const bigTail = img.lookup('/text/t-131073')!;
  if (c.args.includes('-no-fragments')) {
    t.notOk(img.entries.some((e) => e.fragment), 'no fragments');
  } else if (c.args.includes('-always-use-fragments') || c.args.includes('-tailends')) {
    t.ok(bigTail.size > c.blockSize ? bigTail.fragment !== undefined : true, 'tails of files over a block go to fragments');
  } else {
    t.ok(t4097.size < c.blockSize ? t4097.fragment !== undefined : true, 'small files go to fragments');
    t.ok(bigTail.size > c.blockSize ? bigTail.fragment === undefined : true, 'tails of large files stay in blocks by default');
  }
}

function checkXattrs(t: Test, img: SquashfsImage, image: string, tree: TreeSpec): void {
  for (const e of img.entries) {
    const want = tree.xattrs.get(e.path.slice(1));
    const got = e.xattrs ? new Map(e.xattrs.map((x) => [x.name, x.value.toString('utf8')])) : undefined;
    if (want || got) t.same(got && [...got].sort(), want && [...want].sort(), `${e.path} xattrs`);
  }
  const lines = rdXattrs(image, '/text/t-1').trim().split('\n').sort();
  const ours = img.lookup('/text/t-1')!.xattrs!.map((x) => `${x.name}=${x.value.toString()}`).sort();
  t.same(ours, lines, 'xattrs agree with rdsquashfs --xattr');
}

function checkLayout(t: Test, img: SquashfsImage, imageSize: number, c: Case): void {
  const base = 10_000;
  const { files, extents } = squashfsLayout(img, base);
  let sorted = true;
  for (let i = 1; i < extents.length; i++) {
    const a = extents[i - 1]!;
    const b = extents[i]!;
    if (b.start < a.start + a.length) sorted = false;
  }
  t.ok(sorted, 'extents sorted and non-overlapping');
  t.ok(extents.every((e) => e.start >= base && e.start + e.length <= base + imageSize && e.length > 0), 'extents inside the image, shifted by base');
  const kinds = new Set(extents.map((e) => e.kind));
  for (const k of ['superblock', 'data-block', 'inode-table', 'directory-table', 'id-table'] as const) t.ok(kinds.has(k), `has ${k}`);
  if (!c.args.includes('-no-fragments')) t.ok(kinds.has('fragment-block') && kinds.has('fragment-table'), 'has fragments');
  if (!c.args.includes('-no-exports')) t.ok(kinds.has('export-table'), 'has export table');
  if (!c.args.includes('-no-xattrs')) t.ok(kinds.has('xattr-table'), 'has xattr table');
  t.equal(extents[0]!.kind, 'superblock', 'superblock first');
  t.equal(extents[0]!.start, base, 'superblock at base');
  // Metadata tables end where the next begins: the image is covered up to bytes_used without gaps past the data.
  const tail = extents.filter((e) => e.start >= base + img.superblock.inodeTableStart);
  let contiguous = true;
  for (let i = 1; i < tail.length; i++) if (tail[i]!.start !== tail[i - 1]!.start + tail[i - 1]!.length) contiguous = false;
  t.ok(contiguous, 'metadata from the inode table on is covered without gaps');
  t.equal(tail[tail.length - 1]!.start + tail[tail.length - 1]!.length, base + img.superblock.bytesUsed, 'last table ends at bytes_used');
  const inodes = files.map((f) => f.inode);
  t.ok(inodes.every((n) => typeof n === 'number' && n > 0), 'every layout file has its inode number');
}
