import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { openImage } from '../src/image/open.js';
import { runCli } from './helpers/cli.js';
import { makeIso } from './helpers/iso-tools.js';
import { fileBytes } from './helpers/sample-tree.js';

t.test('inspect: JSON is the Layout, text has the summary and one row per file', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(root, 'usr/bin', `tool${i}`), fileBytes(i + 1, 1000 + i * 3000));
  writeFileSync(join(root, 'dup'), fileBytes(1, 1000));
  const sq = join(dir, 'fs.sqfs');
  execFileSync('mksquashfs', [root, sq, '-noappend', '-quiet', '-no-progress', '-comp', 'xz', '-b', '16384'], { stdio: 'ignore' });
  const isoRoot = join(dir, 'iso');
  mkdirSync(join(isoRoot, 'live'), { recursive: true });
  copyFileSync(sq, join(isoRoot, 'live/filesystem.squashfs'));
  const iso = join(dir, 'live.iso');
  makeIso(isoRoot, iso);

  for (const img of [sq, iso]) {
    const res = runCli(['inspect', '--json', img]);
    t.equal(res.status, 0, `inspect --json ${img} exits 0`);
    const opened = openImage(img);
    t.same(JSON.parse(res.stdout), JSON.parse(JSON.stringify(opened.layout)), 'JSON equals the Layout');
    opened.close();

    const text = runCli(['inspect', img]);
    t.equal(text.status, 0);
    t.match(text.stdout, /compressor\s+xz, block size 16384/);
    t.match(text.stdout, /inode-table\s+1\s+\d+/);
    const rows = text.stdout.split('\n').filter((l) => l.startsWith('squashfs  /'));
    t.equal(rows.length, 21, 'one row per regular file');
    t.match(text.stdout, /\/usr\/bin\/tool0 \(= \/dup\)|\/dup \(= \/usr\/bin\/tool0\)/, 'the duplicate names the file it shares data with');
  }
  t.end();
});

t.test('inspect: errors are one line with the offset', (t) => {
  const dir = t.testdir();
  const junk = join(dir, 'junk');
  writeFileSync(junk, Buffer.alloc(50_000, 1));
  const res = runCli(['inspect', junk]);
  t.equal(res.status, 1);
  t.match(res.stderr, /junk at byte 0: not a squashfs/);
  t.equal(res.stderr.trim().split('\n').length, 1);
  const sq = join(dir, 'trunc.sqfs');
  const src = join(dir, 's');
  mkdirSync(src);
  writeFileSync(join(src, 'f'), fileBytes(3, 100_000));
  execFileSync('mksquashfs', [src, sq, '-noappend', '-quiet', '-no-progress'], { stdio: 'ignore' });
  execFileSync('truncate', ['-s', '50000', sq]);
  const tr = runCli(['inspect', sq]);
  t.equal(tr.status, 1, 'truncated squashfs fails');
  t.match(tr.stderr, /at byte \d+/);
  t.end();
});
