import { execFileSync } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { InputError } from '../src/errors.js';
import { fileChunks } from '../src/image/file-content.js';
import { IsoTree, SquashfsTree } from '../src/image/image-tree.js';
import { openImage } from '../src/image/open.js';
import { HostTree } from '../src/tree/host-tree.js';
import { regularFileResolver, resolvePath, resolveRegularFile } from '../src/tree/resolve.js';
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

t.test('regularFileResolver gives what resolveRegularFile gives, path by path, in any order', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(root);
  makeSampleRoot(root);
  symlinkSync('../../../..', join(root, 'usr/up'));
  symlinkSync('/etc', join(root, 'usr/lib/etc-abs'));
  symlinkSync('../bin/bash', join(root, 'usr/lib/bash-rel'));
  symlinkSync('/', join(root, 'usr/slash'));
  symlinkSync('nowhere/x', join(root, 'usr/dangling'));
  // components: plain names, symlinks to directories and files, loops, files used as directories,
  // missing names, ".", ".." and empty ones
  const words = ['usr', 'bin', 'lib', 'etc', 'passwd', 'passwd-hardlink', 'bash', 'sh', 'x86_64-linux-gnu', 'libc.so.6', 'libc-link.so',
    'up', 'etc-abs', 'bash-rel', 'slash', 'dangling', 'opt', 'odd', 'loop-a', 'fifo', 'nothing', '.', '..', '', 'init.d', 'rcS'];
  let seed = 12345;
  const next = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const paths: string[] = ['/', '/usr', '/usr/', '/usr/bin/bash', '/bin/bash', '/etc/passwd/x', '/usr/bin/..', 'usr/bin/ls', '/usr/up/etc/passwd'];
  const spellings = ['/usr/bin/bash', '/bin/bash', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/lib/x86_64-linux-gnu/libc-link.so', '/etc/passwd',
    '/etc/passwd-hardlink', '/usr/up/etc/passwd', '/usr/lib/etc-abs/passwd', '/usr/slash/usr/bin/ls', '/usr/lib/bash-rel', '/etc/init.d/rcS',
    '/opt/odd/with space', '/usr/bin/sh', '/opt/odd/loop-a', '/opt/odd/fifo', '/usr/dangling', '/usr/bin/cat'];
  for (let i = 0; i < 3000; i++) {
    if (i % 2 === 0) {
      const parts = Array.from({ length: 1 + next(5) }, () => words[next(words.length)]!);
      paths.push(`${next(8) === 0 ? '' : '/'}${parts.join('/')}`);
      continue;
    }
    // a file's spelling, then a few edits: a component swapped, ".", "..", "" or a detour put in
    const parts = spellings[next(spellings.length)]!.split('/');
    for (let edits = next(3); edits > 0; edits--) {
      const at = 1 + next(parts.length - 1);
      const edit = next(4);
      if (edit === 0) parts[at] = words[next(words.length)]!;
      else if (edit === 1) parts.splice(at, 0, ['.', '', 'usr/..', 'nothing/..', 'bin/..', 'slash'][next(6)]!);
      else if (edit === 2) parts.splice(at, 0, words[next(words.length)]!, '..');
    }
    paths.push(parts.join('/'));
  }
  const tree = new HostTree(root);
  for (const order of ['as made', 'reversed']) {
    const resolve = regularFileResolver(new HostTree(root));
    const list = order === 'reversed' ? [...paths].reverse() : paths;
    let same = 0;
    let files = 0;
    for (const path of list) {
      const want = resolveRegularFile(tree, path);
      const got = resolve(path);
      if (JSON.stringify(got) === JSON.stringify(want)) same++;
      else t.same(got, want, `${order}: ${JSON.stringify(path)}`);
      if (want.ok) files++;
    }
    t.equal(same, list.length, `${order}: all ${list.length} paths resolve alike (${files} of them to files)`);
    t.ok(files > 100, 'many of the paths are files');
  }
  t.end();
});

t.test('HostTree: ids as a bigint lstat gives them, whatever the spelling of the root', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(root);
  makeSampleRoot(root);
  const rels = ['', 'usr', 'usr/bin', 'usr/bin/bash', 'bin', 'etc/passwd', 'etc/passwd-hardlink', 'opt/odd/fifo', 'opt/odd/new\nline', 'nothing', 'etc/passwd/x'];
  const cwd = process.cwd();
  t.teardown(() => process.chdir(cwd));
  process.chdir(dir);
  for (const spelling of [root, `${root}/`, `${root}//`, `${dir}/./root`, 'root', './root/', 'root/../root']) {
    const tree = new HostTree(spelling);
    const seen: string[] = [];
    const want: string[] = [];
    for (const rel of rels) {
      const node = tree.lstat(rel);
      seen.push(`${rel}: ${node.type} ${node.id}`);
      try {
        const st = lstatSync(join(root, rel), { bigint: true });
        want.push(`${rel}: ${st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'special'} ${st.dev}:${st.ino}`);
      } catch {
        want.push(`${rel}: missing undefined`);
      }
    }
    t.same(seen, want, `root spelt ${spelling.replace(dir, 'DIR')}`);
  }
  t.end();
});
