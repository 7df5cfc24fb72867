// `readahead --ranges` reads what the boot read: the compressed blocks that hold the profile's read
// ranges, and the metadata the boot read (whole tables when the trace does not show it).
// Real mksquashfs images; expected offsets from the image's own bytes and from rdsquashfs --stat.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t, { type Test } from 'tap';
import { coalesce, type ByteRange } from '../src/emit/readahead.js';
import { BlockIndex, bootReadRanges } from '../src/emit/readahead-ranges.js';
import { openImage } from '../src/image/open.js';
import { findExtentIndex, type Layout } from '../src/image/layout.js';
import { readLayoutManifest } from '../src/image/manifest.js';
import { readTrace } from '../src/trace/read.js';
import { runCli } from './helpers/cli.js';
import { makeIso } from './helpers/iso-tools.js';
import { mksquashfs, rdStat } from './helpers/squashfs-tools.js';
import { textBytes } from './helpers/squashfs-tree.js';

const BLOCK = 131072;
const HEADER = '#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath';

/** A byte-exact dd loop over the ranges (integrations/bootprof-readahead reads the same ranges rounded out to whole pages), writing into a sparse copy. */
const DD_LOOP =
  'while read -r off len; do dd if="$1" of="$2" bs=64K iflag=skip_bytes,count_bytes oflag=seek_bytes conv=notrunc,sparse skip="$off" seek="$off" count="$len" status=none; done < "$3"';

interface Fixture {
  dir: string;
  root: string;
  sq: string;
  layout: Layout;
  bytes: Buffer;
  /** rdsquashfs's view of /big: start and on-disk size of each block. */
  bigBlock: (k: number) => ByteRange;
  fragmentOf: (path: string) => ByteRange;
  tables: ByteRange[];
  inodeTable: ByteRange;
  directoryTable: ByteRange;
  ino: (path: string) => number;
}

/**
 * /big: 12 full blocks and a 3000-byte tail; /big2: 10 blocks; /small: 1200 files
 * of 40 bytes (they share fragment blocks; their inodes and directory entries span several
 * metadata blocks, so a metadata block is smaller than its table).
 */
function build(t: Test): Fixture {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(join(root, 'small'), { recursive: true });
  writeFileSync(join(root, 'big'), textBytes(1, 12 * BLOCK + 3000));
  writeFileSync(join(root, 'big2'), textBytes(2, 10 * BLOCK));
  for (let i = 0; i < 1200; i++) writeFileSync(join(root, 'small', `s${String(i).padStart(4, '0')}`), textBytes(100 + i, 40));
  const sq = join(dir, 'fs.sqfs');
  mksquashfs(root, sq, ['-b', String(BLOCK), '-no-xattrs']);
  const image = openImage(sq);
  const layout = image.layout;
  image.close();
  const bytes = readFileSync(sq);
  const big = rdStat(sq, '/big');
  const bigBlock = (k: number): ByteRange => {
    let offset = big.blocksStart!;
    for (let i = 0; i < k; i++) offset += big.blocks[i]!.size;
    return { offset, length: big.blocks[k]!.size };
  };
  const fragmentOf = (path: string): ByteRange => {
    const index = rdStat(sq, path).fragmentIndex!;
    const e = layout.extents.find((x) => x.kind === 'fragment-block' && x.fragment === index)!;
    return { offset: e.start, length: e.length };
  };
  const kinds = new Set(['superblock', 'compressor-options', 'inode-table', 'directory-table', 'fragment-table', 'id-table']);
  const tables = layout.extents.filter((e) => kinds.has(e.kind)).map((e) => ({ offset: e.start, length: e.length }));
  // superblock fields (squashfs 4.0): inode_table_start at 64, directory_table_start at 72, fragment_table_start at 80
  const inodeStart = Number(bytes.readBigUInt64LE(64));
  const dirStart = Number(bytes.readBigUInt64LE(72));
  const fragStart = Number(bytes.readBigUInt64LE(80));
  const ino = (path: string): number => rdStat(sq, path).inodeNumber;
  return {
    dir,
    root,
    sq,
    layout,
    bytes,
    bigBlock,
    fragmentOf,
    tables,
    inodeTable: { offset: inodeStart, length: dirStart - inodeStart },
    directoryTable: { offset: dirStart, length: fragStart - dirStart },
    ino,
  };
}

function events(rows: string[][]): string {
  return [HEADER, ...rows.map((r, i) => [String(i), String(1_000_000 + i), ...r].join('\t'))].join('\n') + '\n';
}

/** The boot: open and read 4000 bytes inside block 2 of /big, page in block 2 by inode, read /small/s0500, open /big2 only. */
function bootRows(f: Fixture): string[][] {
  const big = f.ino('/big');
  const small = f.ino('/small/s0500');
  return [
    ['open', '1', 'init', '7:0', String(big), '-', '-', '/big'],
    ['read', '1', 'init', '7:0', String(big), String(2 * BLOCK + 100), '4000', '/big'],
    ['fault', '1', 'init', '7:0', String(big), String(2 * BLOCK + 8192), '4096', '-'],
    ['open', '1', 'init', '7:0', String(small), '-', '-', '/small/s0500'],
    ['read', '1', 'init', '7:0', String(small), '0', '40', '/small/s0500'],
    ['open', '1', 'init', '7:0', String(f.ino('/big2')), '-', '-', '/big2'],
  ];
}

function parseRanges(text: string): ByteRange[] {
  return text
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [offset, length] = l.split(' ').map(Number);
      return { offset: offset!, length: length! };
    });
}

const total = (rs: readonly ByteRange[]): number => rs.reduce((n, r) => n + r.length, 0);
const covers = (rs: readonly ByteRange[], r: ByteRange): boolean => rs.some((x) => r.offset >= x.offset && r.offset + r.length <= x.offset + x.length);
const touches = (rs: readonly ByteRange[], r: ByteRange): boolean => rs.some((x) => x.offset < r.offset + r.length && r.offset < x.offset + x.length);

t.test('ranges: block 2 of a large file and one small file, not whole files', (t) => {
  const f = build(t);
  const trace = join(f.dir, 'events.tsv');
  writeFileSync(trace, events(bootRows(f)));

  const res = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap-kb', '0', '--image', f.sq, trace]);
  t.equal(res.status, 0, res.stderr);
  const got = parseRanges(res.stdout);
  const block2 = f.bigBlock(2);
  const fragment = f.fragmentOf('/small/s0500');
  t.same(got, coalesce([block2, fragment, ...f.tables], 0), 'exactly block 2 of /big, the fragment block of /small/s0500, the superblock and the tables');
  t.ok(covers(got, block2), 'block 2 of /big (rdsquashfs --stat) is read');
  // mksquashfs stores the tail of a file larger than a block in a short block of its own (block 12)
  for (const k of [0, 1, 3, 11, 12]) t.notOk(touches(got, f.bigBlock(k)), `block ${k} of /big is not`);
  const big2 = rdStat(f.sq, '/big2');
  t.notOk(touches(got, { offset: big2.blocksStart!, length: big2.blocks.reduce((n, b) => n + b.size, 0) }), '/big2 was only opened: none of its blocks');
  t.ok(covers(got, f.inodeTable) && covers(got, f.directoryTable), 'the inode and directory tables are read whole');
  t.match(res.stderr, /tables whole: .*events\.tsv has no squashfs block reads/);
  t.match(res.stderr, /2 files read, 1 only opened/);

  const whole = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--whole-files', '--gap-kb', '0', '--image', f.sq, trace]);
  t.equal(whole.status, 0, whole.stderr);
  const wholeRanges = parseRanges(whole.stdout);
  for (let k = 0; k < 13; k++) t.ok(covers(wholeRanges, f.bigBlock(k)), `--whole-files reads block ${k} of /big`);
  t.ok(total(got) * 4 < total(wholeRanges), `far fewer bytes than --whole-files (${total(got)} vs ${total(wholeRanges)})`);
  t.match(res.stderr, new RegExp(`whole files would be ${total(wholeRanges)} bytes`), 'stderr gives the whole-files figure to compare');

  // The documented dd loop, into a sparse copy plus nothing else: the small file extracts from it,
  // and block 2 of /big holds the image's bytes.
  const rangesFile = join(f.dir, 'ranges');
  writeFileSync(rangesFile, res.stdout);
  const copy = join(f.dir, 'copy.sqfs');
  execFileSync('truncate', ['-s', String(f.bytes.length), copy]);
  execFileSync('sh', ['-c', DD_LOOP, 'sh', f.sq, copy, rangesFile]);
  const copied = readFileSync(copy);
  t.ok(execFileSync('rdsquashfs', ['-c', '/small/s0500', copy]).equals(readFileSync(join(f.root, 'small/s0500'))), '/small/s0500 extracts from the ranges alone');
  t.ok(copied.subarray(block2.offset, block2.offset + block2.length).equals(f.bytes.subarray(block2.offset, block2.offset + block2.length)), 'block 2 of /big is in the copy');

  // The default gap (64 KiB) joins what lies closer than that.
  const merged = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--image', f.sq, trace]);
  t.equal(merged.status, 0, merged.stderr);
  const mergedRanges = parseRanges(merged.stdout);
  t.same(mergedRanges, coalesce(got, 65536), 'default gap: 64 KiB');
  t.same(parseRanges(runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap', '65536', '--image', f.sq, trace]).stdout), mergedRanges, '--gap is the same in bytes');
  const both = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap', '1', '--gap-kb', '1', '--image', f.sq, trace]);
  t.not(both.status, 0, '--gap and --gap-kb together are refused');
  t.end();
});

t.test('ranges: the metadata blocks the boot read, from squashfs reads recorded on this image', (t) => {
  const f = build(t);
  const block2 = f.bigBlock(2);
  const fragment = f.fragmentOf('/small/s0500');
  const metaBlock = (at: number): ByteRange => ({ offset: at, length: 2 + (f.bytes.readUInt16LE(at) & 0x7fff) });
  const inode0 = metaBlock(f.inodeTable.offset);
  const dir0 = metaBlock(f.directoryTable.offset);
  t.ok(inode0.length < f.inodeTable.length, `the inode table has more than one metadata block (${inode0.length} of ${f.inodeTable.length})`);
  const fragIndex = Number(f.bytes.readBigUInt64LE(80));
  const sq = (offset: number, length: number): string[] => ['sqread', '1', 'mount', '7:0', '-', String(offset), String(length), '-'];
  const rows = [
    sq(0, 96), // superblock
    sq(fragIndex, 8), // fragment lookup index
    sq(f.inodeTable.offset, 0), // metadata block reads are logged with length 0
    sq(f.directoryTable.offset, 0),
    ...bootRows(f),
    sq(block2.offset, block2.length),
    sq(fragment.offset, fragment.length),
  ];
  const trace = join(f.dir, 'events.tsv');
  writeFileSync(trace, events(rows));
  const res = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap-kb', '0', '--image', f.sq, trace]);
  t.equal(res.status, 0, res.stderr);
  const got = parseRanges(res.stdout);
  t.same(got, coalesce([{ offset: 0, length: 96 }, { offset: fragIndex, length: 8 }, inode0, dir0, block2, fragment], 0), 'data blocks plus the metadata blocks read');
  const inode1 = metaBlock(inode0.offset + inode0.length);
  t.notOk(touches(got, inode1), 'the second inode metadata block, which the trace did not read, is not read');
  t.match(res.stderr, /metadata: the 4 squashfs metadata reads the traces recorded on this image/);

  // Through a manifest there are no bytes to size a metadata block: the largest one, within its table.
  const manifest = join(f.dir, 'manifest.json');
  writeFileSync(manifest, runCli(['inspect', '--json', f.sq]).stdout);
  const viaManifest = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap-kb', '0', '--image', manifest, trace]);
  t.equal(viaManifest.status, 0, viaManifest.stderr);
  const m = parseRanges(viaManifest.stdout);
  t.ok(covers(m, inode0) && covers(m, dir0) && covers(m, block2) && covers(m, fragment), 'manifest: the same blocks are covered');
  t.ok(covers(m, { offset: f.inodeTable.offset, length: Math.min(8194, f.inodeTable.length) }), 'manifest: a metadata block is read as 8194 bytes at most');

  // Recorded on another image: the data reads do not start on this image's blocks. The file events
  // still give the data; the tables are read whole, and stderr says why.
  const shifted = rows.map((r) => (r[0] === 'sqread' && Number(r[5]) > 1000 ? sq(Number(r[5]) + 7, Number(r[6])) : r));
  for (let k = 3; k < 11; k++) shifted.push(sq(f.bigBlock(k).offset + 5, f.bigBlock(k).length));
  const other = join(f.dir, 'other.tsv');
  writeFileSync(other, events(shifted));
  const res2 = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap-kb', '0', '--image', f.sq, other]);
  t.equal(res2.status, 0, res2.stderr);
  t.same(parseRanges(res2.stdout), coalesce([block2, fragment, ...f.tables], 0), 'another image: data from the file events, tables whole');
  t.match(res2.stderr, /other\.tsv: its squashfs block reads were recorded on another image \(0 of \d+ data reads start on a block of this one\): left out/);
  t.match(res2.stderr, /tables whole: .*other\.tsv's were recorded on another image/);
  t.end();
});

t.test('ranges: a map profile, an ISO, and a list without ranges', (t) => {
  const f = build(t);
  const trace = join(f.dir, 'events.tsv');
  writeFileSync(trace, events(bootRows(f)));
  const direct = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap-kb', '0', '--image', f.sq, trace]);
  t.equal(direct.status, 0, direct.stderr);

  const profile = join(f.dir, 'profile.tsv');
  const map = runCli(['map', '--image', f.sq, trace, '-o', profile]);
  t.equal(map.status, 0, map.stderr);
  const fromProfile = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap-kb', '0', '--image', f.sq, profile]);
  t.equal(fromProfile.status, 0, fromProfile.stderr);
  t.equal(fromProfile.stdout, direct.stdout, "a map profile's ranges give the same blocks as the events");

  const isoRoot = join(f.dir, 'iso');
  mkdirSync(join(isoRoot, 'live'), { recursive: true });
  copyFileSync(f.sq, join(isoRoot, 'live/filesystem.squashfs'));
  const iso = join(f.dir, 'live.iso');
  makeIso(isoRoot, iso);
  const viaIso = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap-kb', '0', '--image', iso, trace]);
  t.equal(viaIso.status, 0, viaIso.stderr);
  t.equal(viaIso.stdout, direct.stdout, 'loopback offsets do not depend on the ISO');

  // A bootlog.list names files and no ranges: its files are read whole, and stderr says so.
  const list = join(f.dir, 'bootlog.list');
  writeFileSync(list, '/big\n/small/s0500\n');
  const fromList = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap-kb', '0', '--image', f.sq, list]);
  t.equal(fromList.status, 0, fromList.stderr);
  const rs = parseRanges(fromList.stdout);
  for (let k = 0; k < 13; k++) t.ok(covers(rs, f.bigBlock(k)), `a list without ranges: block ${k} of /big is read`);
  t.match(fromList.stderr, /bootlog\.list: names files but no byte ranges: its files are read whole/);
  t.end();
});

t.test('ranges: a profile whose files are not in the image is refused, nothing written', (t) => {
  const f = build(t);
  const trace = join(f.dir, 'elsewhere.tsv');
  writeFileSync(
    trace,
    events([
      ['open', '1', 'init', '7:0', '-', '-', '-', '/opt/nothere'],
      ['read', '1', 'init', '7:0', '-', '0', '4096', '/opt/nothere'],
      ['open', '1', 'init', '7:0', '-', '-', '-', '/usr/lib/libnope.so'],
    ]),
  );
  const out = join(f.dir, 'out.ranges');
  for (const extra of [['--ranges'], ['--ranges', '--whole-files'], []]) {
    const res = runCli(['readahead', ...extra, '--image', f.sq, trace, '-o', out]);
    t.equal(res.status, 1, `${extra.join(' ')}: exit 1`);
    t.equal(res.stdout, '');
    const lines = res.stderr.trim().split('\n');
    t.equal(lines.length, 1, `one line: ${res.stderr}`);
    t.match(lines[0], /elsewhere\.tsv: no profiled path is a regular file of .*fs\.sqfs \(2 missing; not in the image: \/opt\/nothere, \/usr\/lib\/libnope\.so\)/);
    t.notOk(existsSync(out), 'no output file');
  }
  t.end();
});

t.test('BlockIndex: duplicates, shared blocks, fragments, ISO sectors', (t) => {
  const B = 4096;
  const layout: Layout = {
    source: 'mem',
    size: 200_000,
    squashfsOffset: 65536,
    blockSize: B,
    files: [
      { path: '/a', layer: 'squashfs', size: 3 * B + 100 },
      { path: '/a-copy', layer: 'squashfs', size: 3 * B + 100, sameDataAs: 0 },
      { path: '/s', layer: 'squashfs', size: 100 },
      { path: '/g', layer: 'squashfs', size: 2 * B },
      { path: '/h', layer: 'squashfs', size: B },
      { path: '/live/vmlinuz', layer: 'iso', size: 5000 },
    ],
    extents: [
      { start: 32768, length: 5000, kind: 'iso-file', file: 5 },
      { start: 65536, length: 96, kind: 'superblock' },
      { start: 65632, length: 1000, kind: 'data-block', file: 0, block: 0 },
      { start: 66632, length: 1001, kind: 'data-block', file: 0, block: 1 },
      { start: 67633, length: 1002, kind: 'data-block', file: 0, block: 2 },
      { start: 68635, length: 900, kind: 'data-block', file: 3, block: 0 },
      // one block that /h (block 0) and /g (block 1) share, as gensquashfs writes them
      { start: 69535, length: 800, kind: 'data-block', file: 4, block: 0, files: [4, 3], fileBlocks: [0, 1] },
      { start: 70335, length: 150, kind: 'fragment-block', files: [0, 1, 2], fragment: 0 },
      { start: 70485, length: 300, kind: 'inode-table' },
      { start: 70785, length: 200, kind: 'directory-table' },
      { start: 70985, length: 16, kind: 'fragment-table' },
      { start: 71001, length: 8, kind: 'export-table' },
      { start: 71009, length: 10, kind: 'id-table' },
    ],
  };
  const blocks = new BlockIndex(layout);
  t.same(blocks.physicalRanges(1, [[B, B + 1]]), [{ offset: 66632, length: 1001 }], 'a duplicate reads its first copy\'s block');
  t.same(blocks.physicalRanges(0, [[3 * B, 3 * B + 1]]), [{ offset: 70335, length: 150 }], 'the tail is in the fragment block');
  t.same(blocks.physicalRanges(0, [[0, 1], [2 * B - 1, 2 * B + 1]]), [
    { offset: 65632, length: 1000 },
    { offset: 66632, length: 1001 },
    { offset: 67633, length: 1002 },
  ], 'a range across a block boundary reads both blocks');
  t.same(blocks.physicalRanges(0, [[0, 3 * B]]).length, 3, 'reading up to the tail does not read the fragment');
  t.same(blocks.physicalRanges(3, [[B, 2 * B]]), [{ offset: 69535, length: 800 }], 'a shared block counts for each owner at its own block number');
  t.same(blocks.physicalRanges(0, [[5 * B, 6 * B]]), [], 'a range past the end reads nothing');
  t.same(blocks.physicalRanges(5, [[2100, 2200]]), [{ offset: 32768 + 2048, length: 2048 }], 'an ISO file: the sector read');
  t.same(blocks.physicalRanges(5, 'whole'), [{ offset: 32768, length: 6144 }], 'an ISO file whole: its sectors');

  const r = bootReadRanges(blocks, [{ file: 2, ranges: [[0, 10]] }, { file: 5, ranges: 'whole' }], 'tables', { gap: 0, base: 65536 });
  t.same(r.ranges, [
    { offset: 0, length: 96 },
    { offset: 70335 - 65536, length: 150 + 300 + 200 + 16 },
    { offset: 71009 - 65536, length: 10 },
  ], 'loopback offsets; ISO data before the squashfs left out; the export table is not one of the tables');
  t.equal(r.dataBytes, 150);
  t.equal(r.metadataBytes, 96 + 300 + 200 + 16 + 10);
  t.end();
});

t.test('a captured module log: the file events give every block squashfs read', async (t) => {
  const fixture = (rel: string): string => fileURLToPath(new URL(`./fixtures/${rel}`, import.meta.url));
  const manifest = fixture('trace/captured-layout.json');
  const trace = fixture('trace/captured/bootprof-events.tsv');
  const layout = readLayoutManifest(manifest);
  const res = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--gap-kb', '0', '--image', manifest, trace]);
  t.equal(res.status, 0, res.stderr);
  t.match(res.stderr, /metadata: the \d+ squashfs metadata reads the traces recorded on this image/);
  const base = layout.squashfsOffset ?? 0;
  const got = parseRanges(res.stdout).map((r) => ({ offset: r.offset + base, length: r.length }));
  // The module's own squashfs reads (sqread) are the oracle: the ranges come from the file events only.
  const events = (await readTrace(trace)).events;
  let data = 0;
  let meta = 0;
  for (const e of events) {
    if (e.kind !== 'block' || e.squashfsOffset !== true) continue;
    const x = layout.extents[findExtentIndex(layout.extents, base + e.offset)];
    if (x === undefined) continue;
    if (x.kind === 'data-block' || x.kind === 'fragment-block') {
      data++;
      t.ok(covers(got, { offset: x.start, length: x.length }), `squashfs read ${x.kind} at ${x.start}: in the ranges`);
    } else {
      meta++;
      t.ok(covers(got, { offset: base + e.offset, length: Math.max(1, e.length) }), `squashfs read ${x.kind} at ${base + e.offset}: in the ranges`);
    }
  }
  t.ok(data >= 8 && meta >= 4, `the log has data (${data}) and metadata (${meta}) reads`);
  const whole = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--whole-files', '--gap-kb', '0', '--image', manifest, trace]);
  t.ok(total(got) * 2 < total(parseRanges(whole.stdout)), `less than half of --whole-files (${total(got)} vs ${total(parseRanges(whole.stdout))})`);
  t.end();
});
