import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Deterministic bytes so that files differ (no accidental duplicates) and compress a little. */
export function fileBytes(seed: number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = i % 7 === 0 ? 0x41 + (x % 26) : x & 0xff;
  }
  return buf;
}

/**
 * A root like a live system's: merged /usr (bin -> usr/bin), nested directories, symlinks
 * (relative and absolute), a hardlink, a fifo, a device node when we are root, and names with
 * spaces, '#', backslashes, UTF-8 and a newline.
 */
export function makeSampleRoot(root: string): { files: string[] } {
  const files: string[] = [];
  const add = (rel: string, size: number): void => {
    writeFileSync(join(root, rel), fileBytes(files.length + 1, size));
    files.push(rel);
  };
  for (const dir of ['usr/bin', 'usr/lib/x86_64-linux-gnu', 'etc/init.d', 'var/lib/empty', 'opt/odd', 'dev']) {
    mkdirSync(join(root, dir), { recursive: true });
  }
  symlinkSync('usr/bin', join(root, 'bin'));
  symlinkSync('usr/lib', join(root, 'lib'));
  add('usr/bin/bash', 9000);
  add('usr/bin/ls', 5000);
  add('usr/bin/cat', 3000);
  add('usr/lib/x86_64-linux-gnu/libc.so.6', 20000);
  add('usr/lib/x86_64-linux-gnu/libtinfo.so.6', 7000);
  symlinkSync('libc.so.6', join(root, 'usr/lib/x86_64-linux-gnu/libc-link.so'));
  symlinkSync('/usr/bin/bash', join(root, 'usr/bin/sh'));
  add('etc/passwd', 600);
  add('etc/init.d/rcS', 1200);
  linkSync(join(root, 'etc/passwd'), join(root, 'etc/passwd-hardlink'));
  add('opt/odd/with space', 1500);
  add('opt/odd/#hash', 1600);
  add('#top', 1650);
  add('opt/odd/back\\slash', 1700);
  add('opt/odd/tab\there', 1800);
  add('opt/odd/grüße-日本', 1900);
  add('opt/odd/new\nline', 2000);
  add('opt/odd/unlisted', 4000);
  symlinkSync('loop-b', join(root, 'opt/odd/loop-a'));
  symlinkSync('loop-a', join(root, 'opt/odd/loop-b'));
  execFileSync('mkfifo', [join(root, 'opt/odd/fifo')]);
  if (isRoot) execFileSync('mknod', [join(root, 'dev/console'), 'c', '5', '1']);
  return { files };
}
