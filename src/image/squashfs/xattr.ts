import { FormatError } from '../../errors.js';
import { readU64 } from './bytes.js';
import type { LookupTable } from './lookup-table.js';
import type { MetadataTable } from './metadata.js';
import type { Xattr } from './types.js';

const PREFIXES = ['user.', 'trusted.', 'security.'];
/** Type bit 0x100: the value is a u64 reference to a value stored elsewhere (out of line). */
const VALUE_OOL = 0x100;
/** XATTR_SIZE_MAX (64 KiB) for a value, XATTR_NAME_MAX for a name. */
const MAX_VALUE = 65536;
const MAX_NAME = 255;

/**
 * Xattrs: the inode's xattr index selects an entry {u64 ref, u32 count, u32 size} of the xattr id
 * table; ref points into the key/value table, where `count` pairs follow:
 * key {u16 type, u16 name size, name}, value {u32 size, bytes} (or an 8-byte reference when OOL).
 */
export class XattrReader {
  private readonly cache = new Map<number, Xattr[]>();
  constructor(
    private readonly file: string,
    private readonly ids: LookupTable,
    private readonly kv: MetadataTable,
  ) {}

  get(index: number, refPos: number): Xattr[] {
    const cached = this.cache.get(index);
    if (cached) return cached;
    const { file, ids, kv } = this;
    if (index >= ids.count) throw new FormatError(file, refPos, `xattr index ${index} past the xattr id table (${ids.count} entries)`);
    const e = index * 16;
    const ref = readU64(ids.bytes, e, file, refPos, 'xattr reference');
    const count = ids.bytes.readUInt32LE(e + 8);
    let p = this.resolve(ref, refPos, `xattr set ${index}`);
    const buf = kv.bytes;
    // Each pair takes at least 8 bytes: the count is bounded by what is left of the table.
    if (count > (buf.length - p) / 8) throw new FormatError(file, refPos, `xattr set ${index} claims ${count} pairs, more than the table holds`);
    const list: Xattr[] = [];
    const fail = (pos: number, msg: string): never => {
      throw new FormatError(file, kv.diskPositionOf(pos), `xattr set ${index} (xattr-table byte ${pos}): ${msg}`);
    };
    for (let i = 0; i < count; i++) {
      if (p + 4 > buf.length) fail(p, 'truncated key');
      const type = buf.readUInt16LE(p);
      const nameSize = buf.readUInt16LE(p + 2);
      const prefix = PREFIXES[type & 0xff];
      if (prefix === undefined || (type & ~(0xff | VALUE_OOL)) !== 0) fail(p, `unknown xattr type 0x${type.toString(16)}`);
      if (nameSize > MAX_NAME || p + 4 + nameSize > buf.length) fail(p, `key name of ${nameSize} bytes`);
      const name = prefix + buf.toString('utf8', p + 4, p + 4 + nameSize);
      p += 4 + nameSize;
      if (p + 4 > buf.length) fail(p, 'truncated value');
      let valueAt = p;
      let size = buf.readUInt32LE(p);
      if (type & VALUE_OOL) {
        if (size !== 8 || p + 12 > buf.length) fail(p, 'out-of-line value reference is not 8 bytes');
        const target = readU64(buf, p + 4, file, kv.diskPositionOf(p), 'xattr value reference');
        valueAt = this.resolve(target, kv.diskPositionOf(p), `value of ${name}`);
        if (valueAt + 4 > buf.length) fail(valueAt, 'truncated out-of-line value');
        size = buf.readUInt32LE(valueAt);
        p += 12;
      } else {
        p += 4 + size;
      }
      if (size > MAX_VALUE || valueAt + 4 + size > buf.length) fail(valueAt, `value of ${size} bytes runs past the table`);
      // Copy: values outlive the decompressed table only if they own their bytes.
      list.push({ name, value: Buffer.from(buf.subarray(valueAt + 4, valueAt + 4 + size)) });
    }
    this.cache.set(index, list);
    return list;
  }

  private resolve(ref: number, refPos: number, what: string): number {
    const block = Math.floor(ref / 65536);
    const offset = ref % 65536;
    return this.kv.resolve(block, offset, this.file, refPos, what);
  }
}
