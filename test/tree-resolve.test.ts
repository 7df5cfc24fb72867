import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { InputError } from '../src/errors.js';
import { fileChunks } from '../src/image/file-content.js';
import { IsoTree, SquashfsTree } from '../src/image/image-tree.js';
import { openImage } from '../src/image/open.js';
import { HostTree } from '../src/tree/host-tree.js';
import { resolvePath, resolveRegularFile } from '../src/tree/resolve.js';
import { makeIso } from './helpers/iso-tools.js';
import { makeSampleRoot } from './helpers/sample-tree.js';

/** Paths with "..": in the path itself, in relative and absolute symlink targets, above the root, after a file. */
const PATHS = [
  '/usr/bin/../bin/bash', // plain ".."
  '/bin/../etc/passwd', // ".." after a symlink: the parent of usr/bin, not of /bin
  '/usr/up/etc/passwd', // a symlink whose target climbs above the root: stops at the root
  '/usr/lib/../../etc/passwd',
  '/../etc/passwd', // the path itself climbs above the root
  '/etc/passwd/../passwd', // ".." after a regular file
  '/usr/bin/..', // ends in a directory
  '/usr/..', // the root
  '/lib/x86_64-linux-gnu/../../bin/sh', // through two symlinks and back
  '/usr/bin/nothing/../bash', // ".." after a missing component
];

t.test('".." resolves the same in a host directory, its squashfs and an ISO of it', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(root);
  makeSampleRoot(root);
  symlinkSync('../../../..', join(root, 'usr/up'));
  const sq = join(dir, 'fs.sqfs');
  execFileSync('mksquashfs', [root, sq, '-noappend', '-quiet', '-no-progress'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const isoRoot = join(dir, 'iso');
  mkdirSync(join(isoRoot, 'live'), { recursive: true });
  copyFileSync(sq, join(isoRoot, 'live/filesystem.squashfs'));
  execFileSync('cp', ['-a', join(root, 'usr'), join(root, 'etc'), join(root, 'bin'), join(root, 'lib'), isoRoot]);
  const iso = join(dir, 'live.iso');
  makeIso(isoRoot, iso);

  const host = new HostTree(root);
  const image = openImage(iso);
  t.teardown(() => image.close());
  const squashfs = new SquashfsTree(image.squashfs!);
  const isoTree = new IsoTree(image.iso!);

  const seen = (found: ReturnType<typeof resolvePath>): string => (found.ok ? `${found.node.type} /${found.rel}` : `${found.failure} at /${found.at}`);
  const expected: Record<string, string> = {
    '/usr/bin/../bin/bash': 'file /usr/bin/bash',
    '/bin/../etc/passwd': 'missing at /usr/etc',
    '/usr/up/etc/passwd': 'file /etc/passwd',
    '/usr/lib/../../etc/passwd': 'file /etc/passwd',
    '/../etc/passwd': 'outside-root at /',
    '/etc/passwd/../passwd': 'not-directory at /etc/passwd',
    '/usr/bin/..': 'dir /usr',
    '/usr/..': 'dir /',
    '/lib/x86_64-linux-gnu/../../bin/sh': 'file /usr/bin/bash',
    '/usr/bin/nothing/../bash': 'missing at /usr/bin/nothing',
  };
  for (const path of PATHS) {
    const want = expected[path]!;
    t.equal(seen(resolvePath(host, path)), want, `host: ${path}`);
    t.equal(seen(resolvePath(squashfs, path)), want, `squashfs: ${path}`);
    t.equal(seen(resolvePath(isoTree, path)), want, `ISO (Rock Ridge): ${path}`);
    const a = resolveRegularFile(host, path);
    const b = resolveRegularFile(squashfs, path);
    t.same({ ...b, id: undefined }, { ...a, id: undefined }, `the profile's view agrees: ${path}`);
  }

  // the image's file reader resolves with the same rules
  t.equal(fileChunks(image, '/usr/lib/../../etc/passwd').path, '/etc/passwd');
  t.equal(fileChunks(image, '/usr/up/etc/passwd').path, '/etc/passwd', 'a link above the root stops at the root');
  t.equal(fileChunks(image, '/lib/x86_64-linux-gnu/../../bin/sh', 'iso').path, '/usr/bin/bash', 'the same on the ISO layer');
  t.throws(() => fileChunks(image, '/../etc/passwd', 'squashfs'), InputError, 'a path above the root is no file of the image');
  t.throws(() => fileChunks(image, '/etc/passwd/../passwd', 'squashfs'), InputError, '".." after a file');
  t.end();
});
