import { FormatError, LimitError, UnsupportedError } from '../../errors.js';
import type { ByteSource } from '../source.js';
import {
  FLAG_ASSOCIATED,
  FLAG_DIRECTORY,
  FLAG_MULTI_EXTENT,
  directoryRecords,
  parseRecord,
  readDirectoryExtent,
  type DirectoryRecord,
} from './directory.js';
import { SECTOR, ucs2be } from './fields.js';
import { readSystemUse, type RangeSink, type SystemUse } from './rock-ridge.js';

const MAX_DEPTH = 256;
const MAX_ENTRIES = 10_000_000;
/** Multi-extent files over 4 GiB need a few records each; this caps a hostile chain. */
const MAX_EXTENTS_PER_FILE = 65_536;

export type IsoEntryType = 'dir' | 'file' | 'symlink' | 'blockdev' | 'chardev' | 'fifo' | 'socket';

/** A contiguous run of a file's data on the ISO. */
export interface IsoExtent {
  lba: number;
  /** Bytes. */
  length: number;
}

export interface IsoEntry {
  /** "/" for the root, "/live/filesystem.squashfs" below it. */
  path: string;
  type: IsoEntryType;
  /** Bytes of data (sum of the extents for multi-extent files). */
  size: number;
  /** Data extents in file order (for directories: the directory's own extent). */
  extents: IsoExtent[];
  /** Byte offset of the (first) directory record, for messages. */
  recordOffset: number;
  mode?: number;
  nlink?: number;
  uid?: number;
  gid?: number;
  /** Rock Ridge PX file serial number, when the writer recorded one. */
  serial?: number;
  symlinkTarget?: string;
  rdev?: { major: number; minor: number };
}

export type Namespace = 'rockridge' | 'joliet' | 'iso9660';

export interface WalkOptions {
  namespace: Namespace;
  /** SUSP skip bytes from the root's SP entry (Rock Ridge trees only). */
  spSkip: number;
  /** Called with the byte range of every directory extent and continuation area read. */
  onMetadata: RangeSink;
}

/** Walks a directory tree from its root record: root first, then each directory's entries in record order, then its subdirectories (recursively). */
export function walkTree(source: ByteSource, rootRecord: Buffer, rootRecordOffset: number, options: WalkOptions): IsoEntry[] {
  const root = parseRecord(source.name, rootRecord, 0, rootRecordOffset);
  if (!(root.flags & FLAG_DIRECTORY)) throw new FormatError(source.name, rootRecordOffset, 'root record is not a directory');
  const entries: IsoEntry[] = [];
  const visited = new Set<number>();
  const rootEntry: IsoEntry = { path: '/', type: 'dir', size: root.dataLength, extents: [{ lba: root.lba, length: root.dataLength }], recordOffset: root.offset };
  entries.push(rootEntry);
  new Walker(source, options, entries, visited).directory(rootEntry, 0);
  return entries;
}

class Walker {
  constructor(
    private readonly source: ByteSource,
    private readonly options: WalkOptions,
    private readonly entries: IsoEntry[],
    private readonly visited: Set<number>,
  ) {}

  directory(dir: IsoEntry, depth: number): void {
    const { lba, length } = dir.extents[0]!;
    if (this.visited.has(lba)) {
      throw new FormatError(this.source.name, dir.recordOffset, `directory loop: ${dir.path} points to block ${lba}, already visited`);
    }
    this.visited.add(lba);
    if (depth > MAX_DEPTH) throw new LimitError(this.source.name, dir.recordOffset, `directories nested deeper than ${MAX_DEPTH}`);
    const buf = readDirectoryExtent(this.source, lba, length, dir.recordOffset);
    this.options.onMetadata(lba * SECTOR, length);
    const subdirs: IsoEntry[] = [];
    let pending: { first: DirectoryRecord; name: string; extents: IsoExtent[]; su: SystemUse } | undefined;
    let index = 0;
    for (const rec of directoryRecords(this.source.name, buf, lba * SECTOR)) {
      const i = index++;
      if (i < 2 || isDotRecord(rec)) continue; // "." and ".."
      if (rec.flags & FLAG_ASSOCIATED) continue;
      const su = this.systemUse(rec);
      const name = this.name(rec, su);
      if (pending !== undefined) {
        if (name !== pending.name) {
          throw new FormatError(this.source.name, rec.offset, `multi-extent file "${pending.name}" continues with a record named "${name}"`);
        }
        if (pending.extents.length >= MAX_EXTENTS_PER_FILE) throw new LimitError(this.source.name, rec.offset, `more than ${MAX_EXTENTS_PER_FILE} extents in one file`);
        pending.extents.push(this.extent(rec, name));
        if (rec.flags & FLAG_MULTI_EXTENT) continue;
        const done = pending;
        pending = undefined;
        this.add(dir, done.first, done.name, done.su, done.extents, subdirs);
        continue;
      }
      if (rec.flags & FLAG_MULTI_EXTENT) {
        if (rec.flags & FLAG_DIRECTORY) throw new FormatError(this.source.name, rec.offset, 'directory record with the multi-extent flag');
        pending = { first: rec, name, extents: [this.extent(rec, name)], su };
        continue;
      }
      if (su.relocated) continue; // RE: the directory is listed where its CL record is
      this.add(dir, rec, name, su, (rec.flags & FLAG_DIRECTORY) || su.childLinkLba !== undefined ? [] : [this.extent(rec, name)], subdirs);
    }
    if (pending !== undefined) {
      throw new FormatError(this.source.name, pending.first.offset, `multi-extent file "${pending.name}" has no final record`);
    }
    for (const sub of subdirs) this.directory(sub, depth + 1);
  }

  private add(dir: IsoEntry, rec: DirectoryRecord, name: string, su: SystemUse, extents: IsoExtent[], subdirs: IsoEntry[]): void {
    if (this.entries.length >= MAX_ENTRIES) throw new LimitError(this.source.name, rec.offset, `more than ${MAX_ENTRIES} entries`);
    const path = dir.path === '/' ? `/${name}` : `${dir.path}/${name}`;
    let entry: IsoEntry;
    if (su.childLinkLba !== undefined) {
      // Rock Ridge relocated directory: the real directory lives at the CL block; its "." record has the size.
      const target = this.dotRecord(su.childLinkLba, rec.offset);
      entry = { path, type: 'dir', size: target.dataLength, extents: [{ lba: target.lba, length: target.dataLength }], recordOffset: rec.offset };
    } else if (rec.flags & FLAG_DIRECTORY) {
      entry = { path, type: 'dir', size: rec.dataLength, extents: [{ lba: rec.lba, length: rec.dataLength }], recordOffset: rec.offset };
    } else {
      if (rec.fileUnitSize !== 0 || rec.interleaveGap !== 0) {
        throw new UnsupportedError(`${this.source.name} at byte ${rec.offset}: ${path} is stored interleaved`);
      }
      const type = typeFromMode(su.mode);
      if (type === 'dir') throw new FormatError(this.source.name, rec.offset, `${path}: Rock Ridge mode says directory, the record says file`);
      const nonEmpty = extents.filter((e) => e.length > 0);
      entry = { path, type, size: extents.reduce((s, e) => s + e.length, 0), extents: nonEmpty, recordOffset: rec.offset };
    }
    if (su.mode !== undefined) entry.mode = su.mode;
    if (su.nlink !== undefined) entry.nlink = su.nlink;
    if (su.uid !== undefined) entry.uid = su.uid;
    if (su.gid !== undefined) entry.gid = su.gid;
    if (su.serial !== undefined) entry.serial = su.serial;
    if (su.rdev !== undefined) entry.rdev = su.rdev;
    if (su.symlinkTarget !== undefined) {
      entry.symlinkTarget = su.symlinkTarget;
      if (entry.type === 'file' && su.mode === undefined) entry.type = 'symlink';
    }
    if (entry.type === 'symlink' || entry.type === 'blockdev' || entry.type === 'chardev' || entry.type === 'fifo' || entry.type === 'socket') {
      entry.extents = [];
    }
    this.entries.push(entry);
    if (entry.type === 'dir') subdirs.push(entry);
  }

  private extent(rec: DirectoryRecord, name: string): IsoExtent {
    if (rec.dataLength > 0 && rec.lba * SECTOR + rec.dataLength > this.source.size) {
      throw new FormatError(this.source.name, rec.offset, `"${name}" extent at block ${rec.lba} (${rec.dataLength} bytes) is past the end of the image`);
    }
    return { lba: rec.lba, length: rec.dataLength };
  }

  private dotRecord(lba: number, from: number): DirectoryRecord {
    const at = lba * SECTOR;
    if (at + SECTOR > this.source.size) throw new FormatError(this.source.name, from, `CL points to block ${lba}, past the end of the image`);
    const rec = parseRecord(this.source.name, this.source.read(at, SECTOR), 0, at);
    if (!(rec.flags & FLAG_DIRECTORY) || !isDotRecord(rec)) {
      throw new FormatError(this.source.name, from, `CL points to block ${lba}, which does not start a directory`);
    }
    return rec;
  }

  private systemUse(rec: DirectoryRecord): SystemUse {
    if (this.options.namespace !== 'rockridge') return { rockRidge: false };
    const skip = this.options.spSkip;
    if (rec.systemUse.length <= skip) return { rockRidge: false };
    return readSystemUse(this.source, rec.systemUse.subarray(skip), rec.systemUseOffset + skip, this.options.onMetadata);
  }

  private name(rec: DirectoryRecord, su: SystemUse): string {
    let name: string;
    if (su.name !== undefined) name = su.name;
    else if (this.options.namespace === 'joliet') name = stripVersion(ucs2be(rec.identifier, 0, rec.identifier.length));
    else name = isoName(rec);
    if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) {
      throw new FormatError(this.source.name, rec.offset, `invalid file name ${JSON.stringify(name)}`);
    }
    return name;
  }
}

function isDotRecord(rec: DirectoryRecord): boolean {
  return rec.identifier.length === 1 && (rec.identifier[0] === 0 || rec.identifier[0] === 1);
}

/** Plain ISO 9660 names: drop the ";1" version and the dot of an empty extension ("README." -> "README"). */
function isoName(rec: DirectoryRecord): string {
  const raw = rec.identifier.toString('latin1');
  if (rec.flags & FLAG_DIRECTORY) return raw;
  const noVersion = stripVersion(raw);
  return noVersion.endsWith('.') ? noVersion.slice(0, -1) : noVersion;
}

function stripVersion(name: string): string {
  const semi = name.lastIndexOf(';');
  return semi > 0 && /^\d*$/.test(name.slice(semi + 1)) ? name.slice(0, semi) : name;
}

function typeFromMode(mode: number | undefined): IsoEntryType {
  if (mode === undefined) return 'file';
  switch (mode & 0o170000) {
    case 0o040000:
      return 'dir';
    case 0o120000:
      return 'symlink';
    case 0o060000:
      return 'blockdev';
    case 0o020000:
      return 'chardev';
    case 0o010000:
      return 'fifo';
    case 0o140000:
      return 'socket';
    default:
      return 'file';
  }
}
