import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { readLayoutManifest, pruneLayout } from '../src/image/manifest.js';
import { openImage } from '../src/image/open.js';
import { runCli } from './helpers/cli.js';
import { makeSampleRoot } from './helpers/sample-tree.js';

t.test('a manifest written by inspect --json reads back as the same Layout, and prunes', (t) => {
  const dir = t.testdir({ root: {} });
  makeSampleRoot(join(dir, 'root'));
  const image = join(dir, 'img.sqfs');
  execFileSync('mksquashfs', [join(dir, 'root'), image, '-noappend', '-quiet', '-b', '4096']);
  const res = runCli(['inspect', '--json', image, '-o', join(dir, 'layout.json')]);
  t.equal(res.status, 0, res.stderr);
  const opened = openImage(image);
  const manifest = readLayoutManifest(join(dir, 'layout.json'));
  t.same(manifest, JSON.parse(JSON.stringify(opened.layout)));
  opened.close();

  const bash = manifest.files.findIndex((f) => f.path === '/usr/bin/bash');
  t.ok(bash >= 0);
  const pruned = pruneLayout(manifest, new Set([bash]));
  t.same(pruned.files.map((f) => f.path), ['/usr/bin/bash']);
  const bytes = (l: typeof manifest): number => l.extents.reduce((n, e) => n + e.length, 0);
  t.equal(bytes(pruned), bytes(manifest), 'elided data keeps its bytes as unknown extents');
  t.ok(pruned.extents.length < manifest.extents.length);
  t.ok(pruned.extents.some((e) => e.kind === 'inode-table'));
  t.end();
});

t.test('hostile manifests end in a typed error naming the file', (t) => {
  const dir = t.testdir();
  const cases: [string, string, RegExp][] = [
    ['not-json', '{"size": 1,', /not a JSON image manifest/],
    ['no-files', '{"size": 10, "extents": []}', /"files" must be an array/],
    ['overlap', '{"size": 100, "files": [], "extents": [{"start": 0, "length": 50, "kind": "superblock"}, {"start": 10, "length": 5, "kind": "inode-table"}]}', /overlaps/],
    ['past-end', '{"size": 10, "files": [], "extents": [{"start": 0, "length": 50, "kind": "superblock"}]}', /past the image size/],
    ['bad-file-ref', '{"size": 10, "files": [], "extents": [{"start": 0, "length": 5, "kind": "data-block", "file": 3}]}', /file out of range/],
  ];
  for (const [name, text, pattern] of cases) {
    const file = join(dir, `${name}.json`);
    writeFileSync(file, text);
    t.throws(() => readLayoutManifest(file), { code: 'EFORMAT', message: pattern }, name);
  }
  t.end();
});

t.test('a gzip-compressed manifest reads as the JSON it holds', async (t) => {
  const { gzipSync } = await import('node:zlib');
  const dir = t.testdir();
  const layout = { source: 'x.iso', size: 100, files: [{ path: '/a', layer: 'squashfs', size: 5, inode: 2 }], extents: [{ start: 96, length: 4, kind: 'data-block', file: 0, block: 0 }] };
  writeFileSync(join(dir, 'm.json.gz'), gzipSync(JSON.stringify(layout)));
  t.same(readLayoutManifest(join(dir, 'm.json.gz')), layout);
  writeFileSync(join(dir, 'cut.json.gz'), gzipSync(JSON.stringify(layout)).subarray(0, 12));
  t.throws(() => readLayoutManifest(join(dir, 'cut.json.gz')), { code: 'EFORMAT', message: /cut\.json\.gz at byte 0: not a gzip-compressed image manifest/ });
});
