import { FormatError } from '../../errors.js';
import type { ByteSource } from '../source.js';
import { SECTOR } from './fields.js';
import { parseRecord, readDirectoryExtent } from './directory.js';
import { readSystemUse } from './rock-ridge.js';
import { walkTree, type IsoEntry, type Namespace } from './tree.js';
import { readVolumeDescriptors, type VolumeDescriptor } from './volume-descriptors.js';

export type { IsoEntry, IsoEntryType, IsoExtent, Namespace } from './tree.js';
export type { VolumeDescriptor } from './volume-descriptors.js';
export { isoLayout } from './layout.js';
export { isoFileChunks, readIsoFile } from './read-file.js';

export interface IsoImage {
  source: ByteSource;
  descriptors: VolumeDescriptor[];
  primary: VolumeDescriptor;
  joliet?: VolumeDescriptor;
  /** The tree whose names `entries` carry: Rock Ridge when present, else Joliet, else plain ISO 9660. */
  namespace: Namespace;
  /** Every entry of the chosen tree: root first, each directory's entries in record order before its subdirectories' contents. */
  entries: IsoEntry[];
  /** Byte ranges of every directory extent and continuation area of every tree (for the layout). */
  directoryRanges: { start: number; length: number }[];
  lookup(path: string): IsoEntry | undefined;
}

export interface OpenIsoOptions {
  /** Force a tree; by default Rock Ridge, then Joliet, then plain names. */
  namespace?: Namespace;
}

/** Parses the descriptors and walks the directory trees. Throws FormatError on malformed input. */
export function openIso(source: ByteSource, options: OpenIsoOptions = {}): IsoImage {
  const descriptors = readVolumeDescriptors(source);
  const primary = descriptors.find((d) => d.type === 'primary')!;
  const joliet = descriptors.find((d) => d.jolietLevel !== undefined);
  const directoryRanges: { start: number; length: number }[] = [];
  const onMetadata = (start: number, length: number): void => {
    directoryRanges.push({ start, length });
  };

  const spSkip = rockRidgeSkip(source, primary);
  let namespace: Namespace = options.namespace ?? (spSkip !== undefined ? 'rockridge' : joliet ? 'joliet' : 'iso9660');
  if (namespace === 'joliet' && !joliet) throw new FormatError(source.name, undefined, 'no Joliet volume descriptor');
  if (namespace === 'rockridge' && spSkip === undefined) namespace = 'iso9660';

  const primaryEntries = walkTree(source, primary.rootRecord!, primary.rootRecordOffset!, {
    namespace: namespace === 'joliet' ? 'iso9660' : namespace,
    spSkip: spSkip ?? 0,
    onMetadata,
  });
  let entries = primaryEntries;
  if (joliet) {
    // Joliet has its own directories (pointing to the same file extents): walk it for the layout,
    // and for the names when it is the chosen tree.
    const jolietEntries = walkTree(source, joliet.rootRecord!, joliet.rootRecordOffset!, { namespace: 'joliet', spSkip: 0, onMetadata });
    if (namespace === 'joliet') entries = jolietEntries;
  }
  const byPath = new Map<string, IsoEntry>();
  for (const e of entries) if (!byPath.has(e.path)) byPath.set(e.path, e);
  const image: IsoImage = {
    source,
    descriptors,
    primary,
    namespace,
    entries,
    directoryRanges,
    lookup: (path) => byPath.get(normalizePath(path)),
  };
  if (joliet) image.joliet = joliet;
  return image;
}

/** The SUSP skip length when the root's "." record carries an SP entry (the Rock Ridge marker). */
function rockRidgeSkip(source: ByteSource, primary: VolumeDescriptor): number | undefined {
  const root = parseRecord(source.name, primary.rootRecord!, 0, primary.rootRecordOffset!);
  const first = readDirectoryExtent(source, root.lba, Math.min(root.dataLength, SECTOR), root.offset);
  if (first.length === 0) return undefined;
  const dot = parseRecord(source.name, first, 0, root.lba * SECTOR);
  if (dot.systemUse.length < 7) return undefined;
  const su = readSystemUse(source, dot.systemUse, dot.systemUseOffset);
  return su.spSkip;
}

function normalizePath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  return `/${parts.join('/')}`;
}
