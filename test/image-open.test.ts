import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FormatError, InputError } from '../src/errors.js';
import type { Extent } from '../src/image/layout.js';
import { fileChunks } from '../src/image/file-content.js';
import { openImage } from '../src/image/open.js';
import { makeSampleRoot } from './helpers/sample-tree.js';
import { makeIso, xorrisoReportLba } from './helpers/iso-tools.js';

function mksquashfs(src: string, out: string, extra: string[] = []): void {
  execFileSync('mksquashfs', [src, out, '-noappend', '-quiet', '-no-progress', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
}

function disjointSorted(extents: readonly Extent[]): boolean {
  let end = 0;
  for (const e of extents) {
    if (e.start < end || e.length <= 0) return false;
    end = e.start + e.length;
  }
  return true;
}

function content(image: ReturnType<typeof openImage>, path: string, layer?: 'iso'): Buffer {
  return Buffer.concat([...fileChunks(image, path, layer).chunks]);
}

t.test('bare squashfs and the same squashfs inside an ISO', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(root);
  const { files } = makeSampleRoot(root);
  const sq = join(dir, 'fs.sqfs');
  mksquashfs(root, sq, ['-b', '4096']);
  const isoRoot = join(dir, 'iso');
  mkdirSync(join(isoRoot, 'live'), { recursive: true });
  mkdirSync(join(isoRoot, 'boot'));
  copyFileSync(sq, join(isoRoot, 'live/filesystem.squashfs'));
  writeFileSync(join(isoRoot, 'boot/vmlinuz'), Buffer.alloc(5000, 7));
  // A bigger squashfs without a telling name: the named one must still win.
  const decoy = join(dir, 'decoy');
  mkdirSync(decoy);
  writeFileSync(join(decoy, 'x'), Buffer.alloc(300_000, 1).map((_, i) => (i * 7919) & 0xff));
  mksquashfs(decoy, join(isoRoot, 'boot/blob.bin'), ['-noD', '-noF']);
  const iso = join(dir, 'live.iso');
  makeIso(isoRoot, iso, ['-joliet', 'on']);

  const bare = openImage(sq);
  t.teardown(() => bare.close());
  t.equal(bare.kind, 'squashfs');
  t.equal(bare.layout.squashfsOffset, 0);
  t.ok(disjointSorted(bare.layout.extents), 'bare layout sorted and disjoint');

  const opened = openImage(iso);
  t.teardown(() => opened.close());
  t.equal(opened.kind, 'iso');
  t.equal(opened.squashfsEntry?.path, '/live/filesystem.squashfs', 'the *.squashfs file is chosen over a larger unnamed one');
  const lba = xorrisoReportLba(iso).find((r) => r.path === '/live/filesystem.squashfs')!.lba;
  const base = lba * 2048;
  t.equal(opened.layout.squashfsOffset, base, 'squashfs offset agrees with xorriso');
  t.equal(opened.layout.squashfsSize, readFileSync(sq).length);
  t.ok(disjointSorted(opened.layout.extents), 'merged layout sorted and disjoint');

  const inner = opened.layout.extents.filter((e) => !e.kind.startsWith('iso-'));
  t.equal(inner.length, bare.layout.extents.length, 'every squashfs extent is in the merged layout');
  t.ok(
    inner.every((e, i) => {
      const b = bare.layout.extents[i]!;
      return e.start === b.start + base && e.length === b.length && e.kind === b.kind && e.file === b.file && e.block === b.block;
    }),
    'squashfs extents are the bare ones shifted by the squashfs position',
  );
  const isoFiles = opened.layout.extents.filter((e) => e.kind === 'iso-file');
  const paths = isoFiles.map((e) => opened.layout.files[e.file!]!.path).sort();
  t.same(paths, ['/boot/blob.bin', '/boot/vmlinuz'], 'ISO files keep their extents, the squashfs file does not');
  t.ok(isoFiles.every((e) => opened.layout.files[e.file!]!.layer === 'iso'));
  for (const k of ['iso-system-area', 'iso-volume-descriptor', 'iso-path-table', 'iso-directory', 'inode-table', 'directory-table', 'superblock']) {
    t.ok(opened.layout.extents.some((e) => e.kind === k), `merged layout has ${k}`);
  }
  const sqFiles = opened.layout.files.filter((f) => f.layer === 'squashfs');
  t.equal(sqFiles.length, bare.layout.files.length);

  let same = 0;
  for (const rel of files) {
    const want = readFileSync(join(root, rel));
    if (content(opened, `/${rel}`).equals(want)) same++;
    else t.fail(`content of /${rel} through the ISO differs`);
  }
  t.equal(same, files.length, `${same} files read through the ISO equal their source`);
  t.same(content(opened, '/bin/bash'), readFileSync(join(root, 'usr/bin/bash')), 'symlinked path followed');
  t.same(content(opened, '/boot/vmlinuz', 'iso'), Buffer.alloc(5000, 7), 'a file on the ISO');
  t.same(content(opened, '/boot/vmlinuz'), Buffer.alloc(5000, 7), 'ISO file found when the squashfs has no such path');
  t.throws(() => fileChunks(opened, '/opt/odd/loop-a'), InputError, 'symlink loop');
  t.throws(() => fileChunks(opened, '/usr/bin'), InputError, 'a directory is not a file');

  const chosen = openImage(iso, { squashfsPath: '/boot/blob.bin' });
  t.teardown(() => chosen.close());
  t.ok(chosen.squashfs?.lookup('/x'), '--squashfs picks the named file');
  t.end();
});

t.test('images that are not squashfs or ISO, or ISOs without a squashfs', (t) => {
  const dir = t.testdir();
  const junk = join(dir, 'junk.bin');
  writeFileSync(junk, Buffer.alloc(100_000, 0x55));
  t.throws(() => openImage(junk), FormatError);
  t.throws(() => openImage(join(dir, 'missing')), InputError);
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'a.txt'), 'hello');
  const iso = join(dir, 'plain.iso');
  makeIso(src, iso);
  t.throws(() => openImage(iso), InputError, 'no squashfs on the ISO');
  const only = openImage(iso, { allowIsoOnly: true });
  t.teardown(() => only.close());
  t.equal(only.squashfs, undefined);
  t.equal(content(only, '/a.txt').toString(), 'hello');
  t.ok(disjointSorted(only.layout.extents));
  t.end();
});
