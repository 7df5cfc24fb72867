import { execFileSync } from 'node:child_process';
import { closeSync, copyFileSync, existsSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FileSource } from '../src/image/source.js';
import { fileChunks, openSquashfs, squashfsLayout } from '../src/image/squashfs/index.js';
import { textBytes } from './helpers/squashfs-tree.js';
import { mksquashfs, rdStat } from './helpers/squashfs-tools.js';

// A file over 4 GiB needs the extended inode (64-bit size and start). Its source is sparse, but
// mksquashfs still reads every hole (about 20 s here), so the image is cached across runs.
const SIZE = 4500 * 1024 * 1024 + 12345;
const ISLANDS: [number, number][] = [
  [0, 4],
  [2 ** 32 - 10, 20], // straddles the 4 GiB boundary
  [4300 * 1024 * 1024, 3000],
  [SIZE - 7000, 7000],
];

const dir = t.testdir();
const source = join(dir, 'src');
mkdirSync(source);
const path = join(source, 'huge');
const fd = openSync(path, 'w');
ftruncateSync(fd, SIZE);
ISLANDS.forEach(([at, len], i) => writeSync(fd, textBytes(100 + i, len), 0, len, at));
closeSync(fd);

const version = execFileSync('mksquashfs', ['-version'], { encoding: 'utf8' }).split('\n')[0]!.replace(/[^0-9.]/g, '');
const cacheDir = join(process.cwd(), 'work-cache', 'squashfs-tests');
const cached = join(cacheDir, `huge-v2-${SIZE}-${version}.sqfs`);
const image = join(dir, 'huge.sqfs');
if (existsSync(cached)) {
  copyFileSync(cached, image);
} else {
  mksquashfs(source, image, ['-b', '1M']);
  mkdirSync(cacheDir, { recursive: true });
  copyFileSync(image, cached);
}

/** Data ranges of the sparse source, from lseek(SEEK_DATA/SEEK_HOLE). */
function dataRanges(file: string): [number, number][] {
  const script = `
import os, sys, json
fd = os.open(sys.argv[1], os.O_RDONLY); end = os.fstat(fd).st_size; out = []; pos = 0
while pos < end:
    try: start = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError: break
    stop = os.lseek(fd, start, os.SEEK_HOLE); out.append([start, stop]); pos = stop
print(json.dumps(out))`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as [number, number][];
}

t.test('a sparse file over 4 GiB', (t) => {
  const src = new FileSource(image);
  t.teardown(() => src.close());
  const img = openSquashfs(src);
  const e = img.lookup('/huge')!;
  t.equal(e.inodeType, 9, 'extended regular inode');
  t.equal(e.size, SIZE, 'size over 4 GiB');
  const bs = img.blockSize;
  t.equal(e.blocks!.length, Math.ceil(SIZE / bs), 'one block per MiB, tail in a block');
  t.equal(e.fragment, undefined, 'no fragment');

  const st = rdStat(image, '/huge');
  t.same(
    { start: e.blocks![0]!.offset, count: e.blocks!.length, sizes: e.blocks!.map((b) => b.size), size: e.size },
    { start: st.blocksStart, count: st.blocks.length, sizes: st.blocks.map((b) => b.size), size: st.fileSize },
    'agrees with rdsquashfs --stat',
  );

  const ranges = dataRanges(path);
  t.ok(ranges.length >= ISLANDS.length - 1, `source has ${ranges.length} data ranges`);
  const hasData = (k: number): boolean => ranges.some(([a, b]) => a < (k + 1) * bs && b > k * bs);
  const { files, extents } = squashfsLayout(img, 0);
  const dataBlocks = new Set(extents.filter((x) => x.kind === 'data-block' && x.file === 0).map((x) => x.block!));
  const sfd = openSync(path, 'r');
  t.teardown(() => closeSync(sfd));
  const zeros = Buffer.alloc(bs);
  let k = 0;
  let mismatches = 0;
  let checked = 0;
  for (const chunk of fileChunks(img, e)) {
    const expected = Math.min(bs, SIZE - k * bs);
    if (chunk.length !== expected) mismatches++;
    if (hasData(k)) {
      const want = Buffer.alloc(expected);
      readSync(sfd, want, 0, expected, k * bs);
      if (!want.equals(chunk)) mismatches++;
      if (!dataBlocks.has(k)) mismatches++;
      checked++;
    } else if (!chunk.equals(zeros.subarray(0, chunk.length)) || dataBlocks.has(k)) {
      mismatches++;
    }
    k++;
  }
  t.equal(k, e.blocks!.length, 'every block produced');
  t.equal(mismatches, 0, `bytes match the source (${checked} blocks with data compared, the rest are holes)`);
  t.equal(files[0]!.size, SIZE, 'layout file size');
  t.ok(checked >= 4, 'the islands, including the one across 4 GiB, were compared');
  t.end();
});
