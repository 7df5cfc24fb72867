import { gzipSync } from 'node:zlib';

/** One entry of an initramfs: a directory, a regular file, a symlink or a device node. */
export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Buffer; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'chardev'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function header(fields: number[], name: string): Buffer {
  const hex = fields.map((n) => n.toString(16).padStart(8, '0')).join('');
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const head = Buffer.from(`070701${hex}`, 'ascii');
  return Buffer.concat([head, nameBytes, pad4(head.length + nameBytes.length)]);
}

/**
 * A gzip-compressed "newc" cpio archive, the format the kernel unpacks as an initramfs.
 * Entries are written in the order given (parents before children).
 */
export function buildCpio(entries: CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const entry of entries) {
    const name = entry.path.replace(/^\/+/, '');
    let mode: number;
    let data: Buffer = Buffer.alloc(0);
    let rdevMajor = 0;
    let rdevMinor = 0;
    switch (entry.type) {
      case 'dir':
        mode = S_IFDIR | (entry.mode ?? 0o755);
        break;
      case 'file':
        mode = S_IFREG | (entry.mode ?? 0o644);
        data = entry.data;
        break;
      case 'symlink':
        mode = S_IFLNK | 0o777;
        data = Buffer.from(entry.target, 'utf8');
        break;
      case 'chardev':
        mode = S_IFCHR | (entry.mode ?? 0o600);
        rdevMajor = entry.major;
        rdevMinor = entry.minor;
        break;
    }
    // ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
    const fields = [ino++, mode, 0, 0, entry.type === 'dir' ? 2 : 1, 0, data.length, 0, 0, rdevMajor, rdevMinor,
      Buffer.byteLength(name, 'utf8') + 1, 0];
    parts.push(header(fields, name), data, pad4(data.length));
  }
  parts.push(header([0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 11, 0], 'TRAILER!!!'));
  return gzipSync(Buffer.concat(parts), { level: 1 });
}
