import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { CLI } from './helpers/cli.js';
import { makeIso } from './helpers/iso-tools.js';
import { makeSampleRoot } from './helpers/sample-tree.js';

function cat(args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'cat', ...args], { maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

t.test('cat writes the exact bytes of squashfs files and ISO files', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(root);
  makeSampleRoot(root);
  writeFileSync(join(root, 'big'), Buffer.alloc(3 * 1024 * 1024 + 17).map((_, i) => (i * 2654435761) >>> 24));
  const sq = join(dir, 'fs.sqfs');
  execFileSync('mksquashfs', [root, sq, '-noappend', '-quiet', '-no-progress', '-comp', 'zstd'], { stdio: 'ignore' });
  const isoRoot = join(dir, 'iso');
  mkdirSync(join(isoRoot, 'casper'), { recursive: true });
  copyFileSync(sq, join(isoRoot, 'casper/filesystem.squashfs'));
  writeFileSync(join(isoRoot, 'casper/vmlinuz'), Buffer.alloc(70_000, 9));
  const iso = join(dir, 'live.iso');
  makeIso(isoRoot, iso);

  for (const img of [sq, iso]) {
    let ok = 0;
    // Each run starts node: a handful of files through the CLI (test/image-open checks them all).
    const some = ['usr/bin/bash', 'etc/passwd-hardlink', 'opt/odd/with space', 'opt/odd/grüße-日本', 'big'];
    for (const rel of some) {
      const r = cat([img, `/${rel}`]);
      if (r.status === 0 && r.stdout.equals(readFileSync(join(root, rel)))) ok++;
      else t.fail(`${img} /${rel}: status ${r.status} ${r.stderr}`);
    }
    t.equal(ok, some.length, `${img}: every file equals its source`);
  }
  t.same(cat([iso, '/casper/vmlinuz']).stdout, Buffer.alloc(70_000, 9), 'file on the ISO');
  t.ok(cat(['--iso', iso, '/casper/filesystem.squashfs']).stdout.equals(readFileSync(sq)), 'the squashfs itself, with --iso');
  const missing = cat([iso, '/no/such']);
  t.equal(missing.status, 1);
  t.match(missing.stderr, /no such file/);
  const dirRes = cat([sq, '/usr']);
  t.equal(dirRes.status, 1);
  t.match(dirRes.stderr, /not a regular file/);
  t.end();
});
