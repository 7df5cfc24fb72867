import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { FileSource } from '../src/image/source.js';
import { openSquashfs, readFile, squashfsLayout, type SquashfsImage } from '../src/image/squashfs/index.js';
import { makeSquashfsTree, randomBytes } from './helpers/squashfs-tree.js';
import { rdStat, rdXattrs } from './helpers/squashfs-tools.js';
import { dataExtentsByFile, reassembleFromLayout } from './helpers/squashfs-reassemble.js';

// A second, independent writer: squashfs-tools-ng's gensquashfs makes other choices than mksquashfs
// (table order, xattr layout, and deduplication of runs of blocks between different files).
function gensquashfs(sourceDir: string, image: string, args: string[]): void {
  execFileSync('gensquashfs', ['-q', '-f', '-k', '-x', '--pack-dir', sourceDir, ...args, image], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function checkAllFiles(t: Test, img: SquashfsImage, image: string, files: Map<string, Buffer>): void {
  const layout = squashfsLayout(img, 0);
  const byFile = dataExtentsByFile(layout.extents);
  const index = new Map(layout.files.map((f, i) => [f.path, i]));
  let bad = 0;
  let count = 0;
  for (const e of img.entries) {
    if (e.type !== 'file') continue;
    count++;
    const want = files.get(e.path.slice(1))!;
    const viaLayout = reassembleFromLayout(img, layout.files, layout.extents, byFile, index.get(e.path)!, e, 0);
    if (!readFile(img, e).equals(want) || !viaLayout.equals(want)) {
      bad++;
      t.fail(`${e.path} content`);
    }
    if (e.path.startsWith('/many/')) continue;
    const st = rdStat(image, e.path);
    t.same(
      [e.inode, e.size, e.fragment?.index ?? 0xffffffff, e.fragment?.offsetInBlock, e.blocks!.map((b) => b.size)],
      // without a fragment the offset field is meaningless (gensquashfs writes 0xFFFFFFFF there)
      [st.inodeNumber, st.fileSize, st.fragmentIndex, e.fragment ? st.fragmentOffset : undefined, st.blocks.map((b) => b.size)],
      `${e.path} agrees with rdsquashfs --stat`,
    );
    if (e.blocks!.some((b) => !b.sparse)) t.equal(e.blocks![0]!.offset, st.blocksStart, `${e.path} block start`);
  }
  t.equal(bad, 0, `${count} files reassemble to their source bytes`);
  let sorted = true;
  for (let i = 1; i < layout.extents.length; i++) {
    if (layout.extents[i]!.start < layout.extents[i - 1]!.start + layout.extents[i - 1]!.length) sorted = false;
  }
  t.ok(sorted, 'extents sorted and non-overlapping');
}

const dir = t.testdir();
const source = join(dir, 'src');
const spec = makeSquashfsTree(source, { special: true, sparse: true, xattrs: true, bigDirectory: 300 });

for (const compressor of ['gzip', 'xz', 'lz4', 'zstd']) {
  t.test(`gensquashfs -c ${compressor}`, (t) => {
    const image = join(dir, `ng-${compressor}.sqfs`);
    gensquashfs(source, image, ['-c', compressor, '-b', '65536']);
    const src = new FileSource(image);
    t.teardown(() => src.close());
    const img = openSquashfs(src);
    t.equal(img.compressor, compressor);
    const paths = new Set(['/']);
    for (const p of [...spec.directories, ...spec.files.keys(), ...spec.symlinks.keys(), ...spec.devices.keys(), ...spec.fifos, ...spec.sockets]) {
      const parts = p.split('/');
      for (let i = 1; i <= parts.length; i++) paths.add('/' + parts.slice(0, i).join('/'));
    }
    const expected = [...paths].sort();
    t.same(img.entries.map((e) => e.path).sort(), expected, 'every source path is in the image');
    // gensquashfs drops empty values, so rdsquashfs is the oracle here rather than the source tree.
    for (const rel of spec.xattrs.keys()) {
      const ours = (img.lookup(`/${rel}`)!.xattrs ?? []).map((x) => `${x.name}=${x.value.toString()}`).sort();
      const theirs = rdXattrs(image, `/${rel}`).split('\n').filter((l) => l !== '').sort();
      t.same(ours, theirs, `/${rel} xattrs agree with rdsquashfs --xattr`);
    }
    t.ok(img.entries.filter((e) => e.xattrs).length >= spec.xattrs.size - 1, 'xattrs found');
    checkAllFiles(t, img, image, spec.files);
    t.end();
  });
}

t.test('blocks shared by different files (runs deduplicated by gensquashfs)', (t) => {
  const root = join(dir, 'runs');
  mkdirSync(root);
  const a = randomBytes(77, 3 * 65536);
  const files = new Map<string, Buffer>([
    ['a', a],
    ['b-prefix', a.subarray(0, 2 * 65536)],
    ['c-suffix', a.subarray(65536)],
  ]);
  for (const [name, bytes] of files) writeFileSync(join(root, name), bytes);
  const image = join(dir, 'runs.sqfs');
  gensquashfs(root, image, ['-b', '65536']);
  const src = new FileSource(image);
  t.teardown(() => src.close());
  const img = openSquashfs(src);
  const c = img.lookup('/c-suffix')!;
  const aEntry = img.lookup('/a')!;
  t.equal(c.blocks![0]!.offset, aEntry.blocks![1]!.offset, "c's first block is a's second block");
  const { extents } = squashfsLayout(img, 0);
  const shared = extents.filter((e) => e.kind === 'data-block' && (e.files?.length ?? 0) > 1);
  t.ok(shared.length >= 2, `${shared.length} data blocks carry several owners`);
  const middle = extents.find((e) => e.kind === 'data-block' && e.start === c.blocks![0]!.offset)!;
  t.same(middle.fileBlocks, [1, 1, 0].slice(0, middle.files!.length), 'block numbers per owner');
  checkAllFiles(t, img, image, files);
  t.end();
});
