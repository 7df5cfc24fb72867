import { FormatError, LimitError, UnsupportedError } from '../../errors.js';
import type { ByteSource } from '../source.js';
import { SECTOR, asciiField, both16, both32, ucs2be } from './fields.js';

/** The descriptor set starts at sector 16 (ECMA-119 6.2.1, docs/formats.md §2); sectors 0-15 are the system area. */
export const FIRST_DESCRIPTOR_SECTOR = 16;
/** Real images carry 2-5 descriptors; this cap bounds the scan of a hostile image. */
const MAX_DESCRIPTORS = 64;

export type DescriptorType = 'boot' | 'primary' | 'supplementary' | 'partition' | 'terminator' | 'other';

export interface VolumeDescriptor {
  type: DescriptorType;
  /** Byte offset of the descriptor in the image. */
  offset: number;
  /** For primary and supplementary descriptors. */
  volumeId?: string;
  volumeSpaceSize?: number;
  /** Joliet level 1-3 when a supplementary descriptor carries a Joliet escape sequence. */
  jolietLevel?: number;
  /** The 34-byte root directory record, for primary and supplementary descriptors. */
  rootRecord?: Buffer;
  rootRecordOffset?: number;
  pathTableSize?: number;
  /** LBAs of the type L (LE) and type M (BE) path tables and their optional copies; 0 = absent. */
  pathTableLbas?: number[];
  /** El Torito boot catalog LBA, for a boot record descriptor. */
  bootCatalogLba?: number;
}

const JOLIET_ESCAPES: Record<string, number> = { '%/@': 1, '%/C': 2, '%/E': 3 };

/**
 * Reads the volume descriptor set up to its terminator. Throws FormatError when the image is not
 * ISO 9660, when a descriptor is damaged, or when there is no primary descriptor.
 */
export function readVolumeDescriptors(source: ByteSource): VolumeDescriptor[] {
  const out: VolumeDescriptor[] = [];
  for (let i = 0; ; i++) {
    const offset = (FIRST_DESCRIPTOR_SECTOR + i) * SECTOR;
    if (i >= MAX_DESCRIPTORS) {
      throw new LimitError(source.name, offset, `no volume descriptor set terminator in the first ${MAX_DESCRIPTORS} descriptors`);
    }
    if (offset + SECTOR > source.size) {
      throw new FormatError(source.name, offset, 'image ends inside the volume descriptor set (no terminator)');
    }
    const buf = source.read(offset, SECTOR);
    if (buf.toString('latin1', 1, 6) !== 'CD001') {
      throw new FormatError(source.name, offset + 1, i === 0 ? 'not an ISO 9660 image (no CD001 at sector 16)' : 'bad volume descriptor identifier (expected CD001)');
    }
    const d = parseDescriptor(source, buf, offset);
    out.push(d);
    if (d.type === 'terminator') break;
  }
  if (!out.some((d) => d.type === 'primary')) {
    throw new FormatError(source.name, FIRST_DESCRIPTOR_SECTOR * SECTOR, 'no primary volume descriptor');
  }
  return out;
}

function parseDescriptor(source: ByteSource, buf: Buffer, offset: number): VolumeDescriptor {
  const code = buf[0]!;
  switch (code) {
    case 0: {
      const d: VolumeDescriptor = { type: 'boot', offset };
      if (buf.toString('latin1', 7, 30) === 'EL TORITO SPECIFICATION') d.bootCatalogLba = buf.readUInt32LE(0x47);
      return d;
    }
    case 1:
    case 2:
      return parseVolume(source, buf, offset, code === 1 ? 'primary' : 'supplementary');
    case 3:
      return { type: 'partition', offset };
    case 255:
      return { type: 'terminator', offset };
    default:
      return { type: 'other', offset };
  }
}

function parseVolume(source: ByteSource, buf: Buffer, offset: number, type: 'primary' | 'supplementary'): VolumeDescriptor {
  const blockSize = both16(buf, 128, source.name, offset);
  if (blockSize !== SECTOR) {
    throw new UnsupportedError(`${source.name} at byte ${offset + 128}: logical block size ${blockSize} (only 2048 is supported)`);
  }
  const d: VolumeDescriptor = {
    type,
    offset,
    volumeSpaceSize: both32(buf, 80, source.name, offset),
    rootRecord: Buffer.from(buf.subarray(156, 190)),
    rootRecordOffset: offset + 156,
    pathTableSize: both32(buf, 132, source.name, offset),
    pathTableLbas: [buf.readUInt32LE(140), buf.readUInt32LE(144), buf.readUInt32BE(148), buf.readUInt32BE(152)],
  };
  if (buf[156] !== 34) {
    throw new FormatError(source.name, offset + 156, `root directory record length ${buf[156]} (expected 34)`);
  }
  if (type === 'supplementary') {
    const level = buf[0 + 6] === 1 ? JOLIET_ESCAPES[buf.toString('latin1', 88, 91)] : undefined;
    if (level !== undefined) d.jolietLevel = level;
    d.volumeId = level !== undefined ? ucs2be(buf, 40, 32).replace(/[\0 ]+$/, '') : asciiField(buf, 40, 32);
  } else {
    d.volumeId = asciiField(buf, 40, 32);
  }
  return d;
}
