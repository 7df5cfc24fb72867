import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readlinkSync, symlinkSync, linkSync, writeFileSync, truncateSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { FileSource } from '../src/image/source.js';
import { openIso, isoLayout, readIsoFile, type IsoImage } from '../src/image/iso9660/index.js';
import { fileBytes } from './helpers/sample-tree.js';
import { makeIso, xorrisoReportLba } from './helpers/iso-tools.js';

/** A tree with long names, a 400-entry directory, deep paths, symlinks, a hardlink and empty files. */
function makeTree(root: string, opts: { longNames: boolean }): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const add = (rel: string, size: number): void => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    const bytes = fileBytes(files.size + 7, size);
    writeFileSync(join(root, rel), bytes);
    files.set(`/${rel}`, bytes);
  };
  add('boot/vmlinuz', 70_000);
  add('boot/initrd.img', 5000);
  add('live/filesystem.size', 12);
  add('empty', 0);
  for (let i = 0; i < 400; i++) add(`many/file-${String(i).padStart(4, '0')}.txt`, (i * 37) % 3000);
  add('a/b/c/d/e/f/g/h/i/j/k/deep.bin', 3000);
  add('spaced name/with spaces.txt', 100);
  if (opts.longNames) {
    add(`long/${'L'.repeat(200)}`, 2049);
    add(`long/${'ü'.repeat(60)}.txt`, 10);
    symlinkSync('../boot/vmlinuz', join(root, 'long/link-to-kernel'));
    symlinkSync('/boot/initrd.img', join(root, 'long/abs-link'));
    symlinkSync(`${'x'.repeat(150)}/${'y'.repeat(150)}/z`, join(root, 'long/long-link'));
    linkSync(join(root, 'boot/initrd.img'), join(root, 'long/hardlink'));
    files.set('/long/hardlink', files.get('/boot/initrd.img')!);
  }
  return files;
}

function checkAgainstXorriso(t: Test, iso: string, image: IsoImage, minRows = 1): void {
  const rows = xorrisoReportLba(iso);
  t.ok(rows.length >= minRows, `xorriso reports ${rows.length} extents`);
  let compared = 0;
  for (const row of rows) {
    const entry = image.lookup(row.path);
    if (!entry) {
      t.fail(`xorriso lists ${row.path}, we do not`);
      continue;
    }
    t.equal(entry.size, row.size, `${row.path} size`);
    if (row.size === 0) {
      t.same(entry.extents, [], `${row.path} is empty`);
      continue;
    }
    const ext = entry.extents[row.extent];
    if (!ext) {
      t.fail(`${row.path} has no extent ${row.extent}`);
      continue;
    }
    if (ext.lba !== row.lba || Math.ceil(ext.length / 2048) !== row.blocks) {
      t.fail(`${row.path} extent ${row.extent}: ours ${ext.lba}+${ext.length}, xorriso ${row.lba}+${row.blocks} blocks`);
    }
    compared++;
  }
  t.equal(compared, rows.filter((r) => r.size > 0).length, 'every non-empty extent agrees with xorriso');
  const ours = image.entries.filter((e) => e.type === 'file').length;
  t.equal(ours, new Set(rows.map((r) => r.path)).size, 'same number of regular files as xorriso');
}

function checkLayout(t: Test, image: IsoImage): void {
  const layout = isoLayout(image);
  let prevEnd = 0;
  let ok = true;
  for (const e of layout.extents) {
    if (e.start < prevEnd || e.length <= 0) ok = false;
    prevEnd = e.start + e.length;
  }
  t.ok(ok, 'layout extents are sorted and disjoint');
  t.ok(prevEnd <= image.source.size, 'layout stays inside the image');
  for (const kind of ['iso-system-area', 'iso-volume-descriptor', 'iso-path-table', 'iso-directory', 'iso-file'] as const) {
    t.ok(layout.extents.some((e) => e.kind === kind), `layout has ${kind}`);
  }
  // Every byte of every regular file with its own data is covered by an iso-file extent of that file.
  for (const [i, f] of layout.files.entries()) {
    if (f.sameDataAs !== undefined || f.size === 0) continue;
    const covered = layout.extents.filter((e) => e.kind === 'iso-file' && e.file === i).reduce((s, e) => s + e.length, 0);
    if (covered !== f.size) t.fail(`${f.path}: ${covered} bytes in layout, size ${f.size}`);
  }
}

t.test('Rock Ridge + Joliet image: names, extents, content, layout', (t) => {
  const dir = t.testdir();
  const src = join(dir, 'src');
  mkdirSync(src);
  const files = makeTree(src, { longNames: true });
  const iso = join(dir, 'rr.iso');
  makeIso(src, iso, ['-joliet', 'on', '-hardlinks', 'on']);
  const source = new FileSource(iso);
  t.teardown(() => source.close());
  const image = openIso(source);
  t.equal(image.namespace, 'rockridge');
  t.ok(image.joliet, 'Joliet descriptor found');
  checkAgainstXorriso(t, iso, image, 400);
  for (const [path, bytes] of files) {
    const entry = image.lookup(path);
    if (!entry) {
      t.fail(`missing ${path}`);
      continue;
    }
    if (!readIsoFile(image, entry).equals(bytes)) t.fail(`content of ${path} differs`);
  }
  t.pass(`content of ${files.size} files checked`);
  t.ok(image.lookup(`/long/${'L'.repeat(200)}`), '200-character Rock Ridge name');
  for (const link of ['link-to-kernel', 'abs-link', 'long-link']) {
    const e = image.lookup(`/long/${link}`);
    t.equal(e?.type, 'symlink', `${link} is a symlink`);
    t.equal(e?.symlinkTarget, readlinkSync(join(src, 'long', link)), `${link} target`);
  }
  const d = image.lookup('/a/b/c/d/e/f/g/h/i/j/k/deep.bin');
  t.ok(d, 'deep path');
  t.equal(image.lookup('/many')?.type, 'dir');
  t.ok(image.lookup('/many')!.size > 2048 * 4, '400-entry directory spans several sectors');
  const layout = isoLayout(image);
  const hard = layout.files.find((f) => f.path === '/long/hardlink');
  t.ok(hard?.sameDataAs !== undefined || layout.files.find((f) => f.path === '/boot/initrd.img')?.sameDataAs !== undefined, 'hardlink shares data');
  checkLayout(t, image);
  t.end();
});

t.test('Joliet-only image uses Joliet names', (t) => {
  const dir = t.testdir();
  const src = join(dir, 'src');
  mkdirSync(src);
  const files = makeTree(src, { longNames: false });
  const iso = join(dir, 'joliet.iso');
  makeIso(src, iso, ['-rockridge', 'off', '-joliet', 'on']);
  const source = new FileSource(iso);
  t.teardown(() => source.close());
  const image = openIso(source);
  t.equal(image.namespace, 'joliet');
  checkAgainstXorriso(t, iso, image);
  for (const [path, bytes] of files) {
    const e = image.lookup(path);
    if (!e || !readIsoFile(image, e).equals(bytes)) t.fail(`${path} missing or different`);
  }
  t.pass('every file found under its Joliet name');
  const plain = openIso(source, { namespace: 'iso9660' });
  t.equal(plain.namespace, 'iso9660');
  t.ok(plain.lookup('/BOOT/VMLINUZ'), 'plain ISO 9660 names without the ;1 version');
  checkLayout(t, image);
  t.end();
});

t.test('Rock Ridge relocated directories (CL/RE) appear at their real place', (t) => {
  const dir = t.testdir();
  const src = join(dir, 'src');
  const deep = join(src, 'd1/d2/d3/d4/d5/d6/d7/d8/d9/d10');
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'f.txt'), 'deep file\n');
  const iso = join(dir, 'reloc.iso');
  makeIso(src, iso, ['-compliance', 'deep_paths_off', '-rr_reloc_dir', 'RR_MOVED']);
  const source = new FileSource(iso);
  t.teardown(() => source.close());
  const plain = openIso(source, { namespace: 'iso9660' });
  t.ok(plain.lookup('/RR_MOVED/D8'), 'xorriso did relocate d8 in the plain tree');
  const image = openIso(source);
  const e = image.lookup('/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/f.txt');
  t.ok(e, 'file found at its Rock Ridge path');
  t.equal(readIsoFile(image, e!).toString(), 'deep file\n');
  t.notOk(image.entries.some((x) => /rr_moved/i.test(x.path)), 'relocation directory is hidden');
  checkAgainstXorriso(t, iso, image);
  t.end();
});

t.test('multi-extent file over 4 GiB (sparse source, sparse ISO)', (t) => {
  const dir = t.testdir();
  const src = join(dir, 'src');
  mkdirSync(src);
  const huge = join(src, 'huge.bin');
  writeFileSync(huge, 'head');
  truncateSync(huge, 4 * 1024 ** 3 + 8192);
  appendFileSync(huge, 'tail');
  writeFileSync(join(src, 'small.txt'), 'small\n');
  const iso = join(dir, 'multi.iso');
  // xorriso writes the zeros; dd conv=sparse keeps them out of the disk.
  execFileSync('sh', ['-c', 'xorriso -outdev - -compliance iso_9660_level=3 -map "$1" / 2>/dev/null | dd of="$2" conv=sparse bs=1M status=none', 'sh', src, iso]);
  const source = new FileSource(iso);
  t.teardown(() => source.close());
  const image = openIso(source);
  const e = image.lookup('/huge.bin')!;
  t.ok(e, 'found');
  t.equal(e.size, 4 * 1024 ** 3 + 8196);
  t.ok(e.extents.length >= 2, `${e.extents.length} extents`);
  const rows = xorrisoReportLba(iso).filter((r) => r.path === '/huge.bin');
  t.same(e.extents.map((x) => x.lba), rows.map((r) => r.lba), 'extent LBAs agree with xorriso');
  const first = e.extents[0]!;
  const last = e.extents[e.extents.length - 1]!;
  t.equal(source.read(first.lba * 2048, 4).toString(), 'head');
  t.equal(source.read(last.lba * 2048 + last.length - 4, 4).toString(), 'tail');
  const small = image.lookup('/small.txt')!;
  t.equal(readIsoFile(image, small).toString(), 'small\n');
  checkLayout(t, image);
  t.end();
});

t.test('El Torito: the boot catalog is its own extent, at the LBA xorriso reports', (t) => {
  const dir = t.testdir();
  const src = join(dir, 'src');
  mkdirSync(join(src, 'boot'), { recursive: true });
  writeFileSync(join(src, 'boot/boot.img'), fileBytes(5, 4096));
  const iso = join(dir, 'eltorito.iso');
  makeIso(src, iso, ['-boot_image', 'any', 'bin_path=/boot/boot.img', '-boot_image', 'any', 'cat_path=/boot/boot.cat', '-boot_image', 'any', 'emul_type=no_emulation']);
  const report = execFileSync('xorriso', ['-indev', iso, '-report_el_torito', 'plain'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const catalog = Number(/El Torito catalog\s*:\s*(\d+)/.exec(report)![1]);
  const source = new FileSource(iso);
  t.teardown(() => source.close());
  const image = openIso(source);
  t.ok(image.descriptors.some((d) => d.type === 'boot' && d.bootCatalogLba === catalog), 'boot record descriptor names the catalog');
  const layout = isoLayout(image);
  const cat = image.lookup('/boot/boot.cat');
  t.equal(cat?.extents[0]?.lba, catalog, 'the catalog is visible as /boot/boot.cat');
  t.ok(layout.extents.some((e) => e.kind === 'iso-file' && e.start === catalog * 2048), 'a visible catalog stays a file extent');
  // Hidden catalog (the usual -as mkisofs -c with hidden boot.cat): hide it and look again.
  const hidden = join(dir, 'hidden.iso');
  makeIso(src, hidden, ['-boot_image', 'any', 'bin_path=/boot/boot.img', '-boot_image', 'any', 'cat_path=/boot/boot.cat', '-boot_image', 'any', 'cat_hidden=on', '-boot_image', 'any', 'emul_type=no_emulation']);
  const hreport = execFileSync('xorriso', ['-indev', hidden, '-report_el_torito', 'plain'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const hcatalog = Number(/El Torito catalog\s*:\s*(\d+)/.exec(hreport)![1]);
  const hsource = new FileSource(hidden);
  t.teardown(() => hsource.close());
  const himage = openIso(hsource);
  t.equal(himage.lookup('/boot/boot.cat'), undefined, 'hidden catalog is not in the tree');
  t.ok(isoLayout(himage).extents.some((e) => e.kind === 'iso-boot-catalog' && e.start === hcatalog * 2048), 'hidden catalog: iso-boot-catalog extent');
  const img = image.lookup('/boot/boot.img')!;
  t.same(readIsoFile(image, img), fileBytes(5, 4096), 'boot image content');
  checkLayout(t, image);
  t.end();
});

t.test('reads stay inside the image for real files', (t) => {
  // Sanity for the hostile tests: the image we corrupt opens cleanly first.
  const dir = t.testdir();
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'x'), readFileSync(new URL(import.meta.url)));
  const iso = join(dir, 'ok.iso');
  makeIso(src, iso);
  const source = new FileSource(iso);
  t.teardown(() => source.close());
  t.ok(openIso(source).lookup('/x'));
  t.end();
});
