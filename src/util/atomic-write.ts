import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, closeSync, fsyncSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError, describeSystemError } from '../errors.js';

/**
 * Write `data` to `path` so that a reader (or a kill -9) never sees a half-written file:
 * write a temporary file beside it, fsync, rename over the target, fsync the directory.
 * A kill during the write leaves the old file intact and a `.NAME.PID.RAND.tmp` beside it.
 *
 * Only a regular file (or nothing) is ever replaced: a character device or FIFO (`-o /dev/null`,
 * `-o /dev/stdout`, a named pipe a reader waits on) is written straight through, a symlink is
 * followed to its target, and a replaced file keeps its mode (and, as root, its owner).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array | Iterable<string>): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let target = path;
  let existing: Stats | undefined;
  try {
    existing = statSync(path); // follows symlinks
    target = realpathSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw new InputError(`cannot write ${describeSystemError(path, err)}`, { cause: err });
    // a dangling symlink or a new file: create it where the name (or the link) points
  }
  if (existing !== undefined && !existing.isFile()) {
    if (existing.isDirectory()) throw new InputError(`cannot write ${path}: it is a directory`);
    writeThrough(path, bytes);
    return;
  }
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', existing !== undefined ? existing.mode & 0o7777 : 0o644);
    writeAll(fd, bytes);
    if (existing !== undefined) {
      chmodSync(tmp, existing.mode & 0o7777); // openSync's mode is filtered by the umask
      if (process.getuid?.() === 0) chownSync(tmp, existing.uid, existing.gid);
    }
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
    syncDirectory(dirname(target));
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // the temporary file may not exist
    }
    throw new InputError(`cannot write ${describeSystemError(path, err)}`, { cause: err });
  }
}

/** Devices and FIFOs: open for writing as they are, never replaced. */
function writeThrough(path: string, bytes: Uint8Array | Iterable<string>): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w');
    writeAll(fd, bytes);
  } catch (err) {
    throw new InputError(`cannot write ${describeSystemError(path, err)}`, { cause: err });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** `data`: bytes, or text in pieces (a big document is never held whole). */
function writeAll(fd: number, data: Uint8Array | Iterable<string>): void {
  if (!(data instanceof Uint8Array)) {
    for (const piece of data) writeAll(fd, Buffer.from(piece, 'utf8'));
    return;
  }
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}

/** Make the rename durable across a power loss; some file systems refuse fsync on a directory. */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort: the rename itself already happened
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
