// Describes where the known header fields of a clean seed are, so the mutator can write extreme
// counts and offsets into them and build loops (directories pointing at an ancestor, tables
// pointing at themselves). Independent of src/: a second reading of the formats, kept simple;
// any parse problem just ends the description early (a seed is still usable without it).

const u16 = (b, o) => (o + 2 <= b.length ? b.readUInt16LE(o) : 0);
const u32 = (b, o) => (o + 4 <= b.length ? b.readUInt32LE(o) : 0);
const u64 = (b, o) => (o + 8 <= b.length ? Number(b.readBigUInt64LE(o)) : 0);

/** Fields: { off, size: 1|2|4|8, be?: true, name }. Loops: arrays of field writes { off, size, be?, value }. */
export function describeSquashfs(buf, base) {
  const fields = [];
  const loops = [];
  const regions = [[base, base + 96]];
  const f = (off, size, name, be) => fields.push(be ? { off, size, name, be: true } : { off, size, name });
  const sbFields = [
    [4, 4, 'inode_count'], [8, 4, 'mtime'], [12, 4, 'block_size'], [16, 4, 'frag_count'], [20, 2, 'compressor'], [22, 2, 'block_log'],
    [24, 2, 'flags'], [26, 2, 'id_count'], [28, 2, 'version_major'], [30, 2, 'version_minor'], [32, 8, 'root_inode'], [40, 8, 'bytes_used'],
    [48, 8, 'id_table_start'], [56, 8, 'xattr_id_table_start'], [64, 8, 'inode_table_start'], [72, 8, 'directory_table_start'],
    [80, 8, 'fragment_table_start'], [88, 8, 'export_table_start'],
  ];
  for (const [o, s, n] of sbFields) f(base + o, s, `sb.${n}`);
  try {
    const sb = {
      inodeCount: u32(buf, base + 4), blockSize: u32(buf, base + 12), fragCount: u32(buf, base + 16), idCount: u16(buf, base + 26),
      flags: u16(buf, base + 24), rootInode: u64(buf, base + 32), bytesUsed: u64(buf, base + 40), idTable: u64(buf, base + 48),
      xattrTable: u64(buf, base + 56), inodeTable: u64(buf, base + 64), dirTable: u64(buf, base + 72), fragTable: u64(buf, base + 80),
      exportTable: u64(buf, base + 88),
    };
    const NONE = 2 ** 64;
    // Compressor options follow the superblock when flag 0x400 is set.
    if (sb.flags & 0x400) f(base + 96, 2, 'compopt.header');
    // Pointer lists of the lookup tables, and the metadata blocks they point to.
    const pointerTable = (start, entries, entrySize, name, selfTarget) => {
      if (start >= NONE || start === 0 || start > buf.length) return;
      const n = Math.ceil((entries * entrySize) / 8192);
      regions.push([base + start, base + start + n * 8]);
      for (let i = 0; i < n && i < 64; i++) {
        const p = base + start + i * 8;
        f(p, 8, `${name}.ptr${i}`);
        const target = u64(buf, p);
        if (target < buf.length) f(base + target, 2, `${name}.block${i}.header`);
        // A pointer to the pointer list itself, and one to the superblock.
        loops.push([{ off: p, size: 8, value: selfTarget(start) }]);
        loops.push([{ off: p, size: 8, value: 0 }]);
      }
    };
    pointerTable(sb.idTable, sb.idCount, 4, 'id', (s) => s);
    pointerTable(sb.fragTable, sb.fragCount, 16, 'frag', (s) => s);
    if (sb.exportTable < NONE) pointerTable(sb.exportTable, sb.inodeCount, 8, 'export', (s) => s);
    if (sb.xattrTable < NONE && sb.xattrTable + 16 <= buf.length) {
      const x = base + sb.xattrTable;
      f(x, 8, 'xattr.table_start');
      f(x + 8, 4, 'xattr.ids');
      pointerTable(sb.xattrTable + 16, u32(buf, x + 8), 16, 'xattr-id', (s) => s - 16);
      loops.push([{ off: x, size: 8, value: sb.xattrTable }]);
    }
    const inodes = readMetadataRun(buf, base, sb.inodeTable, sb.dirTable, 'inode', f, regions);
    const dirs = readMetadataRun(buf, base, sb.dirTable, Math.min(sb.fragTable, sb.idTable, sb.exportTable, sb.xattrTable), 'dir', f, regions);
    if (inodes !== undefined) describeInodes(buf, sb, inodes, dirs, f, loops);
  } catch {
    // a partial description is fine
  }
  return { fields, loops, regions };
}

/**
 * Walks the metadata blocks of a table; when they are stored uncompressed, returns the table's
 * bytes with a map from uncompressed position to position in `buf`.
 */
function readMetadataRun(buf, base, start, end, name, f, regions) {
  if (!(start < end) || end > buf.length) return undefined;
  regions.push([base + start, base + end]);
  const data = [];
  const toDisk = [];
  const blockAt = new Map(); // disk offset relative to table start -> uncompressed offset
  let pos = base + start;
  let raw = true;
  let total = 0;
  for (let i = 0; pos + 2 <= base + end && i < 4096; i++) {
    const h = u16(buf, pos);
    f(pos, 2, `${name}.meta${i}.header`);
    const len = h & 0x7fff;
    if (!(h & 0x8000)) raw = false;
    blockAt.set(pos - base - start, total);
    if (raw) {
      data.push(buf.subarray(pos + 2, pos + 2 + len));
      for (let k = 0; k < len; k++) toDisk.push(pos + 2 + k);
    }
    total += len;
    pos += 2 + len;
  }
  if (!raw) return undefined;
  return { bytes: Buffer.concat(data), toDisk, blockAt };
}

function describeInodes(buf, sb, inodes, dirs, f, loops) {
  const b = inodes.bytes;
  const disk = (u) => inodes.toDisk[u];
  const field = (u, size, name) => {
    const d = disk(u);
    if (d !== undefined) f(d, size, name);
  };
  const rootBlock = Math.floor(sb.rootInode / 65536);
  const rootOffset = sb.rootInode % 65536;
  const rootU = (inodes.blockAt.get(rootBlock) ?? -1) + rootOffset;
  const dirInodes = [];
  let u = 0;
  for (let n = 0; u + 16 <= b.length && n < 100000; n++) {
    const type = b.readUInt16LE(u);
    field(u, 2, `inode${n}.type`);
    field(u + 4, 2, `inode${n}.uid_idx`);
    field(u + 12, 4, `inode${n}.number`);
    let size;
    switch (type) {
      case 1:
        field(u + 16, 4, `inode${n}.dir.start_block`);
        field(u + 24, 2, `inode${n}.dir.file_size`);
        field(u + 26, 2, `inode${n}.dir.offset`);
        field(u + 28, 4, `inode${n}.dir.parent`);
        dirInodes.push({ u, ext: false, start: b.readUInt32LE(u + 16), size: b.readUInt16LE(u + 24), offset: b.readUInt16LE(u + 26) });
        size = 32;
        break;
      case 8: {
        field(u + 20, 4, `inode${n}.xdir.file_size`);
        field(u + 24, 4, `inode${n}.xdir.start_block`);
        field(u + 32, 2, `inode${n}.xdir.index_count`);
        field(u + 34, 2, `inode${n}.xdir.offset`);
        field(u + 36, 4, `inode${n}.xdir.xattr`);
        dirInodes.push({ u, ext: true, start: b.readUInt32LE(u + 24), size: b.readUInt32LE(u + 20), offset: b.readUInt16LE(u + 34) });
        const count = b.readUInt16LE(u + 32);
        size = 40;
        for (let i = 0; i < count && u + size + 12 <= b.length; i++) {
          field(u + size, 4, `inode${n}.xdir.index${i}.index`);
          field(u + size + 4, 4, `inode${n}.xdir.index${i}.start`);
          field(u + size + 8, 4, `inode${n}.xdir.index${i}.name_size`);
          size += 12 + b.readUInt32LE(u + size + 8) + 1;
        }
        break;
      }
      case 2:
      case 9: {
        const ext = type === 9;
        const fileSize = ext ? Number(b.readBigUInt64LE(u + 24)) : b.readUInt32LE(u + 28);
        const frag = b.readUInt32LE(u + (ext ? 44 : 20));
        field(u + 16, ext ? 8 : 4, `inode${n}.file.blocks_start`);
        field(u + (ext ? 24 : 28), ext ? 8 : 4, `inode${n}.file.size`);
        field(u + (ext ? 44 : 20), 4, `inode${n}.file.fragment`);
        field(u + (ext ? 48 : 24), 4, `inode${n}.file.frag_offset`);
        if (ext) field(u + 52, 4, `inode${n}.file.xattr`);
        const blocks = frag === 0xffffffff ? Math.ceil(fileSize / sb.blockSize) : Math.floor(fileSize / sb.blockSize);
        const head = ext ? 56 : 32;
        for (let i = 0; i < blocks && i < 8; i++) field(u + head + 4 * i, 4, `inode${n}.file.block${i}`);
        size = head + 4 * blocks;
        break;
      }
      case 3:
      case 10: {
        const len = b.readUInt32LE(u + 20);
        field(u + 20, 4, `inode${n}.symlink.size`);
        size = 24 + len + (type === 10 ? 4 : 0);
        if (type === 10) field(u + 24 + len, 4, `inode${n}.symlink.xattr`);
        break;
      }
      case 4: case 5: size = 24; field(u + 20, 4, `inode${n}.dev.rdev`); break;
      case 11: case 12: size = 28; field(u + 24, 4, `inode${n}.dev.xattr`); break;
      case 6: case 7: size = 20; break;
      case 13: case 14: size = 24; field(u + 20, 4, `inode${n}.ipc.xattr`); break;
      default:
        return;
    }
    u += size;
  }
  const root = dirInodes.find((d) => d.u === rootU);
  if (root === undefined) return;
  // A directory whose listing is the root's: the root contains it, it contains the root's entries.
  for (const d of dirInodes.slice(0, 40)) {
    if (d === root) continue;
    const at = (k) => inodes.toDisk[d.u + k];
    if (d.ext) {
      loops.push([{ off: at(24), size: 4, value: root.start }, { off: at(34), size: 2, value: root.offset }, { off: at(20), size: 4, value: root.size }]);
    } else {
      loops.push([{ off: at(16), size: 4, value: root.start }, { off: at(26), size: 2, value: root.offset }, { off: at(24), size: 2, value: Math.min(root.size, 65535) }]);
    }
  }
  if (dirs === undefined) return;
  // Directory entries of subdirectories pointed back at the root inode.
  const db = dirs.bytes;
  for (const d of dirInodes.slice(0, 60)) {
    let p = (dirs.blockAt.get(d.start) ?? -1e9) + d.offset;
    let left = d.size - 3;
    for (let h = 0; left > 12 && p >= 0 && p + 12 <= db.length && h < 64; h++) {
      const count = db.readUInt32LE(p) + 1;
      const headerAt = p;
      f(dirs.toDisk[p], 4, 'dir.header.count');
      f(dirs.toDisk[p + 4], 4, 'dir.header.start');
      f(dirs.toDisk[p + 8], 4, 'dir.header.inode_number');
      p += 12;
      left -= 12;
      for (let i = 0; i < count && i < 512 && p + 8 <= db.length; i++) {
        const type = db.readUInt16LE(p + 4);
        const nameSize = db.readUInt16LE(p + 6) + 1;
        if (i < 6) {
          f(dirs.toDisk[p], 2, 'dir.entry.offset');
          f(dirs.toDisk[p + 2], 2, 'dir.entry.inode_offset');
          f(dirs.toDisk[p + 4], 2, 'dir.entry.type');
          f(dirs.toDisk[p + 6], 2, 'dir.entry.name_size');
        }
        if ((type === 1 || type === 8) && loops.length < 400) {
          loops.push([{ off: dirs.toDisk[headerAt + 4], size: 4, value: rootBlock }, { off: dirs.toDisk[p], size: 2, value: rootOffset }]);
        }
        p += 8 + nameSize;
        left -= 8 + nameSize;
      }
    }
  }
}

/** ISO 9660: volume descriptors, path tables, every directory record and SUSP entry; the squashfs inside. */
export function describeIso(buf, layout) {
  const fields = [];
  const loops = [];
  const regions = [];
  const f = (off, size, name, be) => fields.push(be ? { off, size, name, be: true } : { off, size, name });
  const both32 = (off, name) => {
    f(off, 4, name);
    f(off + 4, 4, `${name}.be`, true);
  };
  const roots = [];
  for (let s = 16; s < 32 && (s + 1) * 2048 <= buf.length; s++) {
    const p = s * 2048;
    regions.push([p, p + 2048]);
    const type = buf[p];
    f(p, 1, 'vd.type');
    if (type === 255) break;
    if (type !== 1 && type !== 2) continue;
    both32(p + 80, 'vd.volume_space_size');
    f(p + 128, 2, 'vd.logical_block_size');
    both32(p + 132, 'vd.path_table_size');
    f(p + 140, 4, 'vd.l_path_table');
    f(p + 148, 4, 'vd.m_path_table', true);
    roots.push(p + 156);
    const ptLoc = buf.readUInt32LE(p + 140) * 2048;
    const ptSize = buf.readUInt32LE(p + 132);
    if (ptLoc + ptSize <= buf.length) {
      regions.push([ptLoc, ptLoc + ptSize]);
      for (let q = ptLoc, i = 0; q + 8 <= ptLoc + ptSize && i < 64; i++) {
        f(q, 1, 'pt.name_len');
        f(q + 2, 4, 'pt.extent');
        f(q + 6, 2, 'pt.parent');
        q += 8 + buf[q] + (buf[q] & 1);
      }
    }
  }
  const seen = new Set();
  const record = (q, name) => {
    f(q, 1, `${name}.length`);
    f(q + 1, 1, `${name}.ext_attr_length`);
    both32(q + 2, `${name}.extent`);
    both32(q + 10, `${name}.data_length`);
    f(q + 25, 1, `${name}.flags`);
    f(q + 32, 1, `${name}.name_len`);
  };
  const walk = (q, rootExtent, parentExtent, depth) => {
    const extent = buf.readUInt32LE(q + 2);
    const size = buf.readUInt32LE(q + 10);
    if (seen.has(extent) || depth > 20) return;
    seen.add(extent);
    const start = extent * 2048;
    const end = Math.min(start + size, buf.length);
    regions.push([start, end]);
    let r = start;
    let n = 0;
    while (r < end && n < 2000) {
      const len = buf[r];
      if (len === 0) {
        r = (Math.floor(r / 2048) + 1) * 2048;
        continue;
      }
      record(r, 'dr');
      const nameLen = buf[r + 32];
      const flags = buf[r + 25];
      const isDot = nameLen === 1 && (buf[r + 33] === 0 || buf[r + 33] === 1);
      let su = r + 33 + nameLen + ((nameLen & 1) === 0 ? 1 : 0);
      // SUSP entries (Rock Ridge): signature, length, version; CE points to a continuation area.
      for (let k = 0; su + 4 <= r + len && k < 32; k++) {
        const sig = buf.toString('latin1', su, su + 2);
        const elen = buf[su + 2];
        f(su + 2, 1, `susp.${sig}.length`);
        if (sig === 'CE') {
          both32(su + 4, 'susp.CE.block');
          both32(su + 12, 'susp.CE.offset');
          both32(su + 20, 'susp.CE.length');
          loops.push([
            { off: su + 4, size: 4, value: Math.floor(su / 2048) },
            { off: su + 12, size: 4, value: su % 2048 },
          ]);
        } else if (sig === 'NM' || sig === 'SL') {
          f(su + 4, 1, `susp.${sig}.flags`);
        }
        if (elen < 4) break;
        su += elen;
      }
      if ((flags & 2) !== 0 && !isDot) {
        // A subdirectory pointed at the root, at its own directory, at its grandparent.
        for (const target of [rootExtent, extent, parentExtent]) {
          loops.push([
            { off: r + 2, size: 4, value: target },
            { off: r + 6, size: 4, value: target, be: true },
          ]);
        }
        walk(r, rootExtent, extent, depth + 1);
      }
      r += len;
      n++;
    }
  };
  for (const q of roots) {
    record(q, 'root');
    try {
      walk(q, buf.readUInt32LE(q + 2), buf.readUInt32LE(q + 2), 0);
    } catch {
      // partial description
    }
  }
  if (layout.squashfsOffset !== undefined) {
    const base = layout.squashfsOffset;
    const inner = describeSquashfs(buf.subarray(base, base + (layout.squashfsSize ?? buf.length - base)), 0);
    fields.push(...inner.fields.map((x) => ({ ...x, off: x.off + base })));
    loops.push(...inner.loops.map((l) => l.map((w) => ({ ...w, off: w.off + base }))));
    regions.push(...inner.regions.map(([a, b]) => [a + base, b + base]));
  }
  return { fields, loops, regions };
}
