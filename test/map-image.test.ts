import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { Extent, Layout } from '../src/image/layout.js';
import { openImage } from '../src/image/open.js';
import { buildFileProfile, mapTrace } from '../src/map/index.js';
import { parseProfileRows } from '../src/trace/map-output-format.js';
import { readTrace } from '../src/trace/read.js';
import { parseTrace } from '../src/trace/parse-whole.js';
import { runCli } from './helpers/cli.js';
import { makeIso } from './helpers/iso-tools.js';
import { fileBytes } from './helpers/sample-tree.js';
import { mksquashfs } from './helpers/squashfs-tools.js';

/**
 * A real live-CD image (mksquashfs + xorriso) of real binaries and small text files. Block traces
 * are written from the image's own layout, in the formats qemu, blkparse and the module produce,
 * for a chosen access order; mapping them back through the image must give those files, in that
 * order, each read whole.
 */
const dir = t.testdir({});
const root = join(dir, 'root');
const isoDir = join(dir, 'iso');
for (const d of ['usr/bin', 'usr/lib/x86_64-linux-gnu', 'etc', 'usr/share/doc']) mkdirSync(join(root, d), { recursive: true });
const hostFiles = ['/usr/bin/bash', '/usr/bin/ls', '/usr/bin/cat', '/usr/bin/sort', '/usr/lib/x86_64-linux-gnu/libc.so.6'];
for (const f of hostFiles) copyFileSync(f, join(root, f));
for (let i = 0; i < 30; i++) writeFileSync(join(root, `etc/conf${i}.txt`), fileBytes(i + 1, 300 + i * 211));
writeFileSync(join(root, 'usr/share/doc/big.dat'), fileBytes(99, 600_000));
mkdirSync(join(isoDir, 'live'), { recursive: true });
mkdirSync(join(isoDir, 'boot'), { recursive: true });
mksquashfs(root, join(isoDir, 'live/filesystem.squashfs'), ['-comp', 'gzip', '-b', '131072', '-all-root']);
writeFileSync(join(isoDir, 'boot/vmlinuz'), fileBytes(7, 70_000));
const iso = join(dir, 'live.iso');
makeIso(isoDir, iso, ['-rockridge', 'on']);

const image = openImage(iso);
const layout: Layout = image.layout;
image.close();

/** The access order of the "boot". */
const order = ['/usr/lib/x86_64-linux-gnu/libc.so.6', '/usr/bin/cat', '/etc/conf7.txt', '/usr/bin/bash', '/boot/vmlinuz'];
const indexOf = (path: string): number => {
  const i = layout.files.findIndex((f) => f.path === path);
  if (i < 0) throw new Error(`${path} not in the layout: ${layout.files.map((f) => f.path).join(' ')}`);
  return i;
};
const extentsOf = (path: string): Extent[] => {
  const i = indexOf(path);
  return layout.extents.filter((e) => e.file === i || e.files?.includes(i));
};
const CD = 2048;
const reads = order.flatMap((p) =>
  extentsOf(p).map((e) => {
    // a CD reads whole 2048-byte sectors
    const start = Math.floor(e.start / CD) * CD;
    const end = Math.ceil((e.start + e.length) / CD) * CD;
    return { path: p, extent: e, start, length: end - start };
  }),
);

/**
 * A CD reads whole sectors, so a read may also graze the neighbour of the file it is for; squashfs
 * needs a whole block, so a block is read by the read that completes it (a file on the ISO: by any
 * read of it). Worked out here with a byte map per extent, independent of the mapper.
 */
function expectedFirstSeq(path: string): number {
  let first = Infinity;
  for (const e of extentsOf(path)) {
    const seen = new Uint8Array(e.length);
    let missing = e.length;
    for (let i = 0; i < reads.length && i < first; i++) {
      const r = reads[i]!;
      const from = Math.max(r.start, e.start);
      const to = Math.min(r.start + r.length, e.start + e.length);
      for (let pos = from; pos < to; pos++) {
        if (seen[pos - e.start] === 0) {
          seen[pos - e.start] = 1;
          missing--;
        }
      }
      if (to > from && (e.kind === 'iso-file' || missing === 0)) {
        first = i;
        break;
      }
    }
  }
  return first;
}

function checkOrder(t: Test, name: string, files: { path: string; fileBytes: number; firstSeq: number }[]): void {
  const positions = order.map((p) => files.findIndex((f) => f.path === p));
  t.ok(positions.every((p) => p >= 0), `${name}: every file read appears`);
  for (const p of order) {
    const row = files.find((f) => f.path === p);
    t.equal(row?.firstSeq, expectedFirstSeq(p), `${name}: ${p} first read where expected`);
    t.equal(row?.fileBytes, layout.files[indexOf(p)]!.size, `${name}: ${p} read whole`);
  }
  const seqs = files.map((f) => f.firstSeq);
  t.same(seqs, seqs.slice().sort((a, b) => a - b), `${name}: rows in first-access order`);
}

t.test('the image has what the test needs', async (t) => {
  t.ok(layout.squashfsOffset! > 0, 'the squashfs sits inside the ISO');
  t.ok(extentsOf('/etc/conf7.txt').every((e) => e.kind === 'fragment-block'), 'a small file lives in a fragment');
  t.ok(extentsOf('/usr/bin/bash').length > 5, 'bash has many blocks');
  t.ok(extentsOf('/boot/vmlinuz').every((e) => e.kind === 'iso-file'), 'a file on the ISO itself');
});

t.test('qemu log (blk_co_preadv + ide_atapi_cmd_read) maps back to the files', async (t) => {
  const lines = ['blk_co_preadv blk 0x5600000a0000 bs 0x5600000b0000 offset 0 bytes 512 flags 0x0'];
  for (const r of reads) {
    lines.push(`ide_atapi_cmd_read IDEState: 0x5600000c0000; read dma: LBA=${r.start / CD} nb_sectors=${r.length / CD}`);
    lines.push(`blk_co_preadv blk 0x5600000a0000 bs 0x5600000b0000 offset ${r.start} bytes ${r.length} flags 0x0`);
  }
  const path = join(dir, 'qemu.log');
  writeFileSync(path, `${lines.join('\n')}\n`);
  const trace = await readTrace(path);
  t.equal(trace.events.length, reads.length, 'one read per blk line, probe dropped, ide not counted again');
  const mapped = mapTrace(trace, layout);
  t.equal(mapped.stats.skippedBlockEvents, 0);
  const profile = buildFileProfile([mapped]);
  checkOrder(t, 'qemu', profile.rows.filter((r) => r.kind === 'file'));
  const conf7 = profile.rows.find((r) => r.path === '/etc/conf7.txt')!;
  t.equal(conf7.fragmentBlocks, 1);
  const sharers = layout.extents.find((e) => e.kind === 'fragment-block' && e.files!.includes(indexOf('/etc/conf7.txt')))!.files!;
  t.equal(conf7.sharedWith, sharers.length - 1, 'shared with the other tails of its fragment block');
  t.ok(sharers.every((i) => profile.rows.some((r) => r.path === layout.files[i]!.path)), 'every sharer is marked read');

  // the same through the CLI, TSV and JSON
  const tsv = runCli(['map', '--image', iso, path]);
  t.equal(tsv.status, 0, tsv.stderr);
  t.match(tsv.stderr, /device blk@0x5600000a0000: image/);
  const rows = parseProfileRows(Buffer.from(tsv.stdout), 'stdout');
  t.same(rows, profile.rows, 'the CLI writes the profile the library builds');
  const json = runCli(['map', '--image', iso, '--json', path]);
  t.equal(json.status, 0, json.stderr);
  const parsed = JSON.parse(json.stdout) as { files: { path: string }[]; metadata: unknown[] };
  t.same(parsed.files.map((f) => f.path), rows.filter((r) => r.kind === 'file').map((r) => r.path));
  const fromJson = parseTrace(Buffer.from(json.stdout), 'profile.json');
  t.equal(fromJson.format, 'bootprof-profile', 'the JSON profile is a trace too');
  t.same(fromJson.events, parseTrace(Buffer.from(tsv.stdout), 'profile.tsv').events, 'with the same events as the TSV');
  t.throws(() => parseTrace(Buffer.from(json.stdout.slice(0, 300)), 'cut.json'), /cut\.json at byte 300: not valid JSON/);
  // a map output is a trace: mapping it again gives the same files in the same order
  const again = join(dir, 'profile.tsv');
  writeFileSync(again, tsv.stdout);
  const back = await readTrace(again);
  t.equal(back.format, 'bootprof-profile');
  const remapped = buildFileProfile([mapTrace(back, layout)]).rows.filter((r) => r.kind === 'file');
  t.same(remapped.map((r) => [r.path, r.fileBytes]), rows.filter((r) => r.kind === 'file').map((r) => [r.path, r.fileBytes]));
});

t.test('guest blkparse on sr0 (512-byte sectors of the ISO)', async (t) => {
  const lines = reads.map(
    (r, i) => ` 11,0    0 ${String(i + 1).padStart(8)} ${(i / 100).toFixed(9).padStart(14)}   180  D  RA ${r.start / 512} + ${r.length / 512} [kworker/u2:1]`,
  );
  const trace = parseTrace(Buffer.from(`${lines.join('\n')}\n`), 'sr0.txt');
  const profile = buildFileProfile([mapTrace(trace, layout)]);
  checkOrder(t, 'blkparse', profile.rows.filter((r) => r.kind === 'file'));
});

t.test('module log: squashfs block reads and inode-only faults', async (t) => {
  const sq = layout.squashfsOffset!;
  const lines = ['#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath'];
  let seq = 0;
  for (const path of order) {
    const file = layout.files[indexOf(path)]!;
    if (file.layer !== 'squashfs') continue;
    for (const e of extentsOf(path)) {
      lines.push(`${seq++}\t${1000 + seq}\tsqread\t1\tinit\t7:0\t-\t${e.start - sq}\t${e.length}\t-`);
    }
    lines.push(`${seq++}\t${1000 + seq}\tfault\t1\tinit\t7:0\t${file.inode}\t0\t4096\t-`);
  }
  lines.push(`${seq++}\t${1000 + seq}\tsqread\t1\tinit\t7:0\t-\t${layout.extents.find((e) => e.kind === 'inode-table')!.start - sq}\t0\t-`);
  const trace = parseTrace(Buffer.from(`${lines.join('\n')}\n`), 'events.tsv');
  const mapped = mapTrace(trace, layout);
  t.equal(mapped.stats.unresolvedInodeEvents, 0);
  t.equal(mapped.stats.unmappedBytes, 0, 'exact squashfs reads land on extents only');
  const profile = buildFileProfile([mapped]);
  const files = profile.rows.filter((r) => r.kind === 'file');
  const squashfsOrder = order.filter((p) => layout.files[indexOf(p)]!.layer === 'squashfs');
  t.same(
    files.map((r) => r.path).filter((p) => squashfsOrder.includes(p)),
    squashfsOrder,
  );
  t.ok(files.find((r) => r.path === '/usr/bin/cat')!.via.includes('fault'), 'the inode-only fault found its file');
  t.same(
    profile.rows.filter((r) => r.kind === 'metadata').map((r) => r.path),
    ['inode-table'],
  );
});
