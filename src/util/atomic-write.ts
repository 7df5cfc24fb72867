import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError, describeSystemError } from '../errors.js';

/**
 * Write `data` to `path` so that a reader (or a kill -9) never sees a half-written file:
 * write a temporary file beside it, fsync, rename over the target, fsync the directory.
 * A kill during the write leaves the old file intact and a `.NAME.PID.RAND.tmp` beside it.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', 0o644);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
    syncDirectory(dirname(path));
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
