// Builds the fuzzer's seed inputs once (cached under work-cache/fuzz/seeds-vN): small real squashfs
// images from mksquashfs (every compressor; uncompressed metadata so byte mutations reach inodes
// and directory entries), ISOs from xorriso holding them, the trace fixtures, and for every image
// a matching events trace, qemu log and sort file so map/sort/readahead/verify get past parsing.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, linkSync, writeFileSync,
} from 'node:fs';
import { basename, join, relative } from 'node:path';
import { describeIso, describeSquashfs } from './structure.mjs';

/** Bump when the seed recipe changes: the cache key. */
const SEED_VERSION = 10;

const SQUASHFS_SEEDS = [
  // Uncompressed metadata and data first: mutations hit inodes, directories and tables directly.
  { name: 'sqfs-raw', args: ['-comp', 'gzip', '-b', '4096', '-noI', '-noD', '-noF', '-noX'] },
  { name: 'sqfs-raw-nofrag', args: ['-comp', 'gzip', '-b', '4096', '-noI', '-noD', '-noX', '-no-fragments'] },
  { name: 'sqfs-raw-allfrag', args: ['-comp', 'gzip', '-b', '4096', '-noI', '-noD', '-noF', '-noX', '-always-use-fragments', '-no-duplicates'] },
  { name: 'sqfs-gzip', args: ['-comp', 'gzip', '-b', '4096'] },
  { name: 'sqfs-xz', args: ['-comp', 'xz', '-b', '8192'] },
  { name: 'sqfs-lz4', args: ['-comp', 'lz4', '-b', '4096', '-Xhc'] },
  { name: 'sqfs-zstd', args: ['-comp', 'zstd', '-b', '4096'] },
  { name: 'sqfs-lzo', args: ['-comp', 'lzo', '-b', '4096'] },
  { name: 'sqfs-lzma', args: ['-comp', 'lzma', '-b', '4096'] },
];

const ISO_SEEDS = [
  { name: 'iso-rr-joliet-raw', squashfs: 'sqfs-raw', args: ['-joliet', 'on'] },
  { name: 'iso-rr-xz', squashfs: 'sqfs-xz', args: [] },
  { name: 'iso-plain-raw', squashfs: 'sqfs-raw-nofrag', args: ['-rockridge', 'off'] },
];

const PSEUDO_DEVICES = ['-p', 'dev/null c 666 0 0 1 3', '-p', 'dev/loop0 b 660 0 0 7 0', '-p', 'dev/console c 600 0 0 5 1'];

function sh(cmd, args) {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A small tree with every kind of entry the readers handle. */
function buildTree(dir) {
  const w = (rel, data) => {
    const full = join(dir, rel);
    mkdirSync(join(full, '..'), { recursive: true });
    writeFileSync(full, data);
  };
  let x = 12345;
  const noise = (n) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      b[i] = i % 7 === 0 ? x >>> 24 : 97 + (i % 13);
    }
    return b;
  };
  w('etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');
  w('etc/group', 'root:x:0:\n');
  w('usr/bin/tool', noise(13000));
  w('usr/bin/tool-copy', noise(0)); // replaced below by a duplicate of tool
  copyFileSync(join(dir, 'usr/bin/tool'), join(dir, 'usr/bin/tool-copy'));
  w('usr/lib/libx.so.1', noise(9000));
  w('usr/lib/big.dat', noise(41000));
  for (let i = 0; i < 24; i++) w(`usr/share/doc/f${String(i).padStart(2, '0')}.txt`, `doc ${i}\n`.repeat(i + 1));
  for (let i = 0; i < 300; i++) w(`var/many/entry-with-a-longish-name-${String(i).padStart(3, '0')}`, i % 50 === 0 ? noise(100) : '');
  w('weird/name with\ttab', 'tab\n');
  w('weird/\u00e9t\u00e9-utf8', 'utf8\n');
  // Markup in names: the report must escape them (the worker checks its output).
  w('usr/lib/<img src=x onerror=alert(1)>.so', noise(5000));
  w('usr/bin/<svg onload=alert(1)>', 'svg\n');
  // Sparse file: holes become sparse blocks.
  w('usr/lib/sparse.img', Buffer.alloc(0));
  execFileSync('truncate', ['-s', '65536', join(dir, 'usr/lib/sparse.img')]);
  execFileSync('dd', ['if=/dev/urandom', `of=${join(dir, 'usr/lib/sparse.img')}`, 'bs=4096', 'seek=5', 'count=1', 'conv=notrunc'], { stdio: 'ignore' });
  linkSync(join(dir, 'etc/passwd'), join(dir, 'etc/passwd.hardlink'));
  symlinkSync('tool', join(dir, 'usr/bin/tool-link'));
  symlinkSync('/usr/lib/libx.so.1', join(dir, 'usr/lib/libx.so'));
  symlinkSync('../../..', join(dir, 'usr/share/up'));
  symlinkSync('loop-b', join(dir, 'usr/share/loop-a'));
  symlinkSync('loop-a', join(dir, 'usr/share/loop-b'));
  symlinkSync('/nonexistent/target', join(dir, 'usr/share/dangling'));
  mkdirSync(join(dir, 'dev'));
  // Device nodes come from mksquashfs pseudo definitions (PSEUDO_DEVICES): no root needed.
  sh('mkfifo', [join(dir, 'dev/fifo')]);
  const xattr = (name, value, rel) => {
    try {
      sh('setfattr', ['-n', name, '-v', value, join(dir, rel)]);
    } catch {
      // trusted.* needs root, user.* a file system that stores them: seeds without are still seeds
    }
  };
  xattr('user.comment', 'fuzz seed', 'usr/bin/tool');
  xattr('user.long', 'v'.repeat(300), 'usr/lib/libx.so.1');
  xattr('trusted.t', '0x00ff', 'etc/group');
  mkdirSync(join(dir, 'empty-dir'));
}

function buildIsoTree(dir, squashfs) {
  mkdirSync(join(dir, 'live'), { recursive: true });
  copyFileSync(squashfs, join(dir, 'live/filesystem.squashfs'));
  mkdirSync(join(dir, 'boot/isolinux'), { recursive: true });
  writeFileSync(join(dir, 'boot/vmlinuz'), Buffer.alloc(5000, 0x4b));
  writeFileSync(join(dir, 'boot/isolinux/isolinux.cfg'), 'default live\n');
  writeFileSync(join(dir, 'A Rather Long File Name For Joliet And Rock Ridge Names.txt'), 'x\n');
  let deep = dir;
  for (let i = 0; i < 9; i++) deep = join(deep, `d${i}`);
  mkdirSync(deep, { recursive: true });
  writeFileSync(join(deep, 'deep.txt'), 'deep\n');
  symlinkSync('live/filesystem.squashfs', join(dir, 'fs-link'));
}

/** Aux inputs for an image: a module events trace, a qemu log and a sort file naming its files. */
function writeAux(info, dir, name) {
  const files = info.files.filter((f) => f.layer === 'squashfs').slice(0, 40);
  const lines = ['#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath'];
  let seq = 0;
  let t = 1_000_000;
  const ev = (event, dev, ino, off, len, path) => lines.push([seq++, (t += 1000), event, 100, 'init', dev, ino, off, len, path].join('\t'));
  for (const f of files) {
    ev('open', '0:25', f.inode ?? '-', '-', '-', f.path);
    ev('read', '0:25', f.inode ?? '-', 0, Math.min(f.size, 4096), f.path);
    ev('fault', '0:25', f.inode ?? '-', 0, 4096, '-');
  }
  const base = info.squashfsOffset ?? 0;
  for (const e of info.extents.filter((x) => x.start >= base).slice(0, 60)) ev('sqread', '7:0', '-', e.start - (info.squashfsOffset ?? 0), e.kind === 'data-block' ? e.length : 0, '-');
  writeFileSync(join(dir, `${name}.events.tsv`), `${lines.join('\n')}\n`);
  const q = [];
  for (const e of info.extents.slice(0, 80)) {
    const start = Math.floor(e.start / 2048) * 2048;
    q.push(`blk_co_preadv blk 0x55d5c7b0e8a0 bs 0x55d5c7b15000 offset ${start} bytes ${Math.ceil((e.start + e.length - start) / 2048) * 2048} flags 0x0`);
  }
  writeFileSync(join(dir, `${name}.qemu.log`), `${q.join('\n')}\n`);
  // mksquashfs sort syntax: blanks and backslashes in names are backslash-escaped.
  const sortPath = (p) => p.slice(1).replace(/[\\ \t\v\f\r]/g, (c) => `\\${c}`);
  writeFileSync(join(dir, `${name}.sort`), files.map((f, i) => `${sortPath(f.path)} ${30000 - i}`).join('\n') + '\n');
}

function walkFiles(dir, out = []) {
  for (const name of readdirSync(dir).sort()) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) walkFiles(full, out);
    else out.push(full);
  }
  return out;
}

/**
 * Returns { dir, seeds: [{ name, class, path, aux?, structure }] }. `lib` is the loaded dist modules
 * (used to describe clean seeds: layout extents, files). Builds into a temp dir, then renames.
 */
export function buildSeeds(cacheRoot, repoRoot, lib) {
  const fixtures = join(repoRoot, 'test/fixtures/trace');
  const fixtureFiles = walkFiles(fixtures).filter((f) => !f.endsWith('.md') && !f.endsWith('.json') && !f.endsWith('stats.txt'));
  const key = createHash('sha256').update(String(SEED_VERSION));
  for (const f of fixtureFiles) key.update(f).update(readFileSync(f));
  const dir = join(cacheRoot, `seeds-v${SEED_VERSION}-${key.digest('hex').slice(0, 12)}`);
  const indexPath = join(dir, 'index.json');
  if (!existsSync(indexPath)) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const tree = join(tmp, 'tree');
    buildTree(tree);
    const seeds = [];
    for (const s of SQUASHFS_SEEDS) {
      const out = join(tmp, `${s.name}.sqfs`);
      sh('mksquashfs', [tree, out, '-noappend', '-no-progress', '-quiet', '-all-root', '-xattrs', ...PSEUDO_DEVICES, ...s.args]);
      seeds.push({ name: s.name, class: 'squashfs', file: basename(out) });
    }
    for (const s of ISO_SEEDS) {
      const isoTree = join(tmp, `${s.name}-tree`);
      buildIsoTree(isoTree, join(tmp, `${s.squashfs}.sqfs`));
      const out = join(tmp, `${s.name}.iso`);
      sh('xorriso', ['-outdev', out, ...s.args, '-map', isoTree, '/']);
      rmSync(isoTree, { recursive: true });
      seeds.push({ name: s.name, class: 'iso', file: basename(out) });
    }
    rmSync(tree, { recursive: true });
    for (const seed of seeds.slice()) {
      const path = join(tmp, seed.file);
      const opened = lib.open.openImage(path);
      try {
        const layout = opened.layout;
        seed.structure = seed.class === 'iso' ? describeIso(readFileSync(path), layout) : describeSquashfs(readFileSync(path), 0);
        writeAux({ files: layout.files, extents: layout.extents, squashfsOffset: layout.squashfsOffset }, tmp, seed.name);
        seed.aux = { events: `${seed.name}.events.tsv`, qemu: `${seed.name}.qemu.log`, sort: `${seed.name}.sort` };
      } finally {
        opened.close();
      }
      // The Layout JSON (inspect --json) is itself an input of sort --image.
      const manifest = `${seed.name}.layout.json`;
      if (seed.class === 'squashfs' && seed.name.endsWith('raw')) {
        const o = lib.open.openImage(path);
        writeFileSync(join(tmp, manifest), JSON.stringify(o.layout));
        o.close();
        seeds.push({ name: `${seed.name}-manifest`, class: 'manifest', file: manifest, aux: seed.aux, structure: {} });
      }
    }
    // Compressed blocks of every compressor, for the decompressors on their own.
    for (const seed of seeds.filter((x) => x.class === 'squashfs' && !x.name.includes('raw'))) {
      const bytes = readFileSync(join(tmp, seed.file));
      const compressor = ['', 'gzip', 'lzma', 'lzo', 'xz', 'lz4', 'zstd'][bytes.readUInt16LE(20)];
      const blockSize = bytes.readUInt32LE(12);
      const blocks = [];
      for (const field of [64, 72]) {
        // first metadata block of the inode and directory tables
        const at = Number(bytes.readBigUInt64LE(field));
        const h = bytes.readUInt16LE(at);
        if (!(h & 0x8000)) blocks.push({ data: bytes.subarray(at + 2, at + 2 + (h & 0x7fff)), maxOutput: 8192 });
      }
      const o = lib.open.openImage(join(tmp, seed.file));
      for (const e of o.layout.extents.filter((x) => (x.kind === 'data-block' || x.kind === 'fragment-block') && !x.uncompressed).slice(0, 4)) {
        blocks.push({ data: bytes.subarray(e.start, e.start + e.length), maxOutput: blockSize });
      }
      o.close();
      blocks.forEach((b, i) => {
        const file = `dc-${seed.name}-${i}.bin`;
        writeFileSync(join(tmp, file), b.data);
        seeds.push({ name: `${seed.name}:block${i}`, class: 'decompress', file, compressor, maxOutput: b.maxOutput, structure: {} });
      });
    }
    // Trace fixtures: mapped against the captured layout manifest (its README says which image).
    for (const f of fixtureFiles) {
      const rel = relative(fixtures, f).replace(/\//g, '__');
      copyFileSync(f, join(tmp, `trace__${rel}`));
      seeds.push({ name: `trace:${relative(fixtures, f)}`, class: 'trace', file: `trace__${rel}`, structure: {} });
    }
    // A module log at the u64 limits (issue 11): time_ns past 104 days, offsets, lengths, inodes
    // and seqs up to 2^64-1, the reads an unprivileged process could once make the module log.
    const U64_MAX = '18446744073709551615';
    writeFileSync(join(tmp, 'trace__kmod-u64-extremes.tsv'), [
      '#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath',
      '0\t9007199254740993\topen\t1\tinit\t0:25\t12\t-\t-\t/usr/bin/bash',
      `1\t9007199254741993\tread\t1\tinit\t0:25\t12\t100000000000000000\t1\t/usr/bin/bash`,
      `2\t9007199254742993\tread\t1\tinit\t0:25\t12\t0\t${U64_MAX}\t/usr/bin/bash`,
      `3\t${U64_MAX}\tfault\t1\tinit\t0:25\t${U64_MAX}\t${U64_MAX}\t4096\t-`,
      `9007199254740993\t1\tsqread\t1\tinit\t7:0\t-\t${U64_MAX}\t${U64_MAX}\t-`,
      `${U64_MAX}\t2\texec\t1\tinit\t0:25\t12\t-\t-\t/usr/bin/bash`,
      '',
    ].join('\n'));
    seeds.push({ name: 'trace:kmod-u64-extremes', class: 'trace', file: 'trace__kmod-u64-extremes.tsv', structure: {} });
    copyFileSync(join(fixtures, 'captured-layout.json'), join(tmp, 'captured-layout.json'));
    for (const seed of seeds.filter((s) => s.class === 'squashfs' || s.class === 'iso')) {
      // The file-level profile `bootprof map` writes is itself a trace format.
      const opened = lib.open.openImage(join(tmp, seed.file));
      const mapped = [seed.aux.qemu, seed.aux.events].map((a) => lib.map.mapTrace(lib.read.parseTrace(readFileSync(join(tmp, a)), a), opened.layout, {}));
      opened.close();
      writeFileSync(join(tmp, `${seed.name}.profile.tsv`), lib.profile.formatProfileTsv(lib.map.buildFileProfile(mapped).rows));
      seeds.push({ name: `${seed.name}:profile`, class: 'trace', file: `${seed.name}.profile.tsv`, image: seed.file, structure: {} });
      seeds.push({ name: `${seed.name}:events`, class: 'trace', file: seed.aux.events, image: seed.file, structure: {} });
      seeds.push({ name: `${seed.name}:qemu`, class: 'trace', file: seed.aux.qemu, image: seed.file, structure: {} });
      seeds.push({ name: `${seed.name}:sort`, class: 'sortfile', file: seed.aux.sort, image: seed.file, structure: {} });
    }
    writeFileSync(join(tmp, 'index.json'), JSON.stringify({ version: SEED_VERSION, seeds }, null, 1));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  }
  const { seeds } = JSON.parse(readFileSync(indexPath, 'utf8'));
  for (const s of seeds) s.path = join(dir, s.file);
  return { dir, seeds };
}
