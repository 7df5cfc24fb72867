import { FormatError, InputError } from '../errors.js';
import type { IsoEntry, IsoImage } from './iso9660/index.js';
import { SECTOR } from './iso9660/fields.js';
import type { ByteSource } from './source.js';

/** The squashfs magic as its first four bytes read (docs/formats.md §1.1). */
const SQUASHFS_MAGIC = 'hsqs';
/** Names live systems give their loopback image (Debian live, casper, Mandriva, Fedora). */
const SQUASHFS_NAME = /\.(squashfs|sfs|sqfs|squash)$/i;
/** Without a telling name we probe file heads; a hostile ISO with millions of files is capped. */
const MAX_PROBES = 100_000;
/** A squashfs is at least its superblock. */
const MIN_SQUASHFS = 96;

/**
 * What an image is, from its content: a bare squashfs (magic at byte 0), or an ISO 9660 image
 * (standard identifier "CD001" in the first volume descriptor, sector 16).
 */
export function detectImageKind(path: string, source: ByteSource): 'squashfs' | 'iso' {
  if (source.size >= 4 && source.read(0, 4).toString('latin1') === SQUASHFS_MAGIC) return 'squashfs';
  if (source.size >= 17 * SECTOR && source.read(16 * SECTOR + 1, 5).toString('latin1') === 'CD001') return 'iso';
  throw new FormatError(path, 0, 'not a squashfs (no hsqs magic) nor an ISO 9660 image (no CD001 at byte 32769)');
}

/** The named squashfs, else the largest *.squashfs-like file with the magic, else the largest file with it. */
export function findSquashfs(iso: IsoImage, wanted: string | undefined): IsoEntry | undefined {
  const hasMagic = (e: IsoEntry): boolean =>
    e.size >= MIN_SQUASHFS && e.extents[0] !== undefined && e.extents[0].length >= 4 && iso.source.read(e.extents[0].lba * SECTOR, 4).toString('latin1') === SQUASHFS_MAGIC;
  if (wanted !== undefined) {
    const e = iso.lookup(wanted);
    if (e === undefined || e.type !== 'file') throw new InputError(`${iso.source.name}: no file ${wanted} on the ISO`);
    if (!hasMagic(e)) throw new FormatError(iso.source.name, e.extents[0] ? e.extents[0].lba * SECTOR : undefined, `${wanted} is not a squashfs`);
    return e;
  }
  const files = iso.entries.filter((e) => e.type === 'file' && e.size >= MIN_SQUASHFS);
  const largest = (list: IsoEntry[]): IsoEntry | undefined => list.reduce<IsoEntry | undefined>((best, e) => (best === undefined || e.size > best.size ? e : best), undefined);
  const named = files.filter((e) => SQUASHFS_NAME.test(e.path) && hasMagic(e));
  if (named.length > 0) return largest(named);
  return largest(files.slice(0, MAX_PROBES).filter(hasMagic));
}
