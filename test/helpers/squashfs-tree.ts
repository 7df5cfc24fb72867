import { execFileSync } from 'node:child_process';
import { closeSync, ftruncateSync, linkSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** A seeded xorshift PRNG, so every run builds the same tree. */
function prng(seed: number): () => number {
  let x = (seed * 2654435761) >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

const WORDS = ['squashfs', 'block', 'fragment', 'inode', 'the', 'boot', 'live', 'kernel', 'read', 'seek', 'cd', 'of', 'and', '\n'];

/** Text made of repeated words: compresses well, so every decoder has matches to copy. */
export function textBytes(seed: number, size: number): Buffer {
  const next = prng(seed);
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const w = WORDS[next() % WORDS.length]! + (next() % 5 === 0 ? String(next() % 1000) : '') + ' ';
    parts.push(w);
    length += w.length;
  }
  return Buffer.from(parts.join(''), 'latin1').subarray(0, size);
}

/** Noise: does not compress, so mksquashfs stores those blocks uncompressed. */
export function randomBytes(seed: number, size: number): Buffer {
  const next = prng(seed);
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buf[i] = next() & 0xff;
  return buf;
}

export interface TreeSpec {
  /** Regular files: path (relative) -> content, including duplicates and hardlinks. */
  files: Map<string, Buffer>;
  /** Hardlink groups: every path of one inode. */
  hardlinks: string[][];
  symlinks: Map<string, string>;
  /** Devices: path -> [type, major, minor]. */
  devices: Map<string, ['c' | 'b', number, number]>;
  fifos: string[];
  sockets: string[];
  /** Xattrs set on paths: path -> name -> value. */
  xattrs: Map<string, Map<string, string>>;
  directories: string[];
}

export interface TreeOptions {
  /** Add a directory of this many entries (the listing spans metadata blocks: directory index). */
  bigDirectory?: number;
  /** Add a sparse file with holes. */
  sparse?: boolean;
  xattrs?: boolean;
  special?: boolean;
}

/**
 * A source tree that covers every case the reader must handle: sizes around block boundaries,
 * compressible and incompressible data, duplicates, hardlinks, symlinks, devices, fifos, sockets,
 * sparse files, xattrs (inline and shared values) and a large directory.
 */
export function makeSquashfsTree(root: string, opts: TreeOptions = {}): TreeSpec {
  const spec: TreeSpec = {
    files: new Map(),
    hardlinks: [],
    symlinks: new Map(),
    devices: new Map(),
    fifos: [],
    sockets: [],
    xattrs: new Map(),
    directories: [],
  };
  const dir = (rel: string): void => {
    mkdirSync(join(root, rel), { recursive: true });
    spec.directories.push(rel);
  };
  const file = (rel: string, bytes: Buffer): void => {
    writeFileSync(join(root, rel), bytes);
    spec.files.set(rel, bytes);
  };
  dir('text');
  dir('bin');
  dir('deep/a/b/c/d');
  dir('empty-dir');
  let seed = 1;
  for (const size of [0, 1, 100, 4095, 4096, 4097, 65536, 131071, 131072, 131073, 400_000]) {
    file(`text/t-${size}`, textBytes(seed++, size));
  }
  file('bin/noise-300000', randomBytes(seed++, 300_000));
  file('bin/mixed-1200000', Buffer.concat([textBytes(seed++, 600_000), randomBytes(seed++, 600_000)]));
  file('deep/a/b/c/d/leaf', textBytes(seed++, 5000));
  // Duplicates: same content, separate inodes (mksquashfs shares their blocks unless -no-duplicates).
  file('text/dup-of-400000', spec.files.get('text/t-400000')!);
  file('text/dup-of-100', spec.files.get('text/t-100')!);
  file('bin/dup-of-noise', spec.files.get('bin/noise-300000')!);
  // Hardlinks: one inode, several names.
  linkSync(join(root, 'text/t-131073'), join(root, 'deep/hardlink-131073'));
  spec.files.set('deep/hardlink-131073', spec.files.get('text/t-131073')!);
  spec.hardlinks.push(['text/t-131073', 'deep/hardlink-131073']);
  for (const [rel, target] of [
    ['link-rel', 'text/t-100'],
    ['link-abs', '/etc/passwd'],
    ['deep/link-dangling', '../nowhere'],
    ['link-long', `${'x'.repeat(120)}/${'y'.repeat(120)}`],
  ] as const) {
    symlinkSync(target, join(root, rel));
    spec.symlinks.set(rel, target);
  }
  if (opts.special) {
    dir('dev');
    for (const [rel, type, major, minor] of [
      ['dev/null', 'c', 1, 3],
      ['dev/loop0', 'b', 7, 0],
      ['dev/big-minor', 'c', 250, 70000],
    ] as const) {
      execFileSync('mknod', [join(root, rel), type, String(major), String(minor)]);
      spec.devices.set(rel, [type, major, minor]);
    }
    execFileSync('mkfifo', [join(root, 'dev/fifo')]);
    spec.fifos.push('dev/fifo');
    execFileSync('python3', ['-c', 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', join(root, 'dev/socket')]);
    spec.sockets.push('dev/socket');
  }
  if (opts.sparse) {
    // 3 MiB with one island of data at 1 MiB + 1000 and a tail: the rest are holes (sparse blocks).
    const path = join(root, 'bin/sparse');
    const bytes = Buffer.alloc(3 * 1024 * 1024);
    textBytes(seed++, 5000).copy(bytes, 1024 * 1024 + 1000);
    textBytes(seed++, 100).copy(bytes, bytes.length - 100);
    // truncate + positioned writes leave holes in the source, which mksquashfs turns into sparse blocks
    const fd = openSync(path, 'w');
    ftruncateSync(fd, bytes.length);
    writeSync(fd, bytes, 1024 * 1024 + 1000, 5000, 1024 * 1024 + 1000);
    writeSync(fd, bytes, bytes.length - 100, 100, bytes.length - 100);
    closeSync(fd);
    spec.files.set('bin/sparse', bytes);
  }
  if (opts.xattrs) {
    const shared = 'shared-value-'.repeat(20);
    const set = (rel: string, name: string, value: string): void => {
      execFileSync('setfattr', ['-h', '-n', name, '-v', value, join(root, rel)]);
      const m = spec.xattrs.get(rel) ?? new Map<string, string>();
      m.set(name, value);
      spec.xattrs.set(rel, m);
    };
    set('text/t-1', 'user.comment', 'one byte');
    set('text/t-1', 'trusted.note', 'root only');
    set('text/t-4096', 'security.label', 'sec');
    // The same long value on several files: mksquashfs stores it once and refers to it (out of line).
    for (const rel of ['text/t-4095', 'text/t-4097', 'bin/noise-300000', 'deep/a']) set(rel, 'user.shared', shared);
    set('deep/a/b/c/d/leaf', 'user.empty', '');
  }
  if (opts.bigDirectory) {
    dir('many');
    for (let i = 0; i < opts.bigDirectory; i++) {
      file(`many/entry-with-a-longish-name-${String(i).padStart(5, '0')}`, textBytes(seed++, (i * 131) % 700));
    }
  }
  return spec;
}
