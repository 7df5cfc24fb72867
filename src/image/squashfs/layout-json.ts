import type { Layout } from '../layout.js';
import type { EntryTable } from './entry-table.js';
import type { SquashfsFileColumns } from './layout.js';

/**
 * JSON.stringify of a bare squashfs's Layout, in pieces of about `chunkChars` characters, written
 * straight from the entry columns: no LayoutFile object, no tree arrays, each path built just
 * before it is written. `head` holds the Layout's scalar fields, in the Layout's key order.
 */
export function* squashfsLayoutJson(
  head: Pick<Layout, 'source' | 'size' | 'squashfsOffset' | 'squashfsSize' | 'blockSize' | 'compressor'>,
  t: EntryTable,
  files: SquashfsFileColumns,
  extents: readonly Layout['extents'][number][],
  chunkChars = 1 << 14,
): Generator<string> {
  const pathJson = filePathJson(t);
  let out = JSON.stringify(head).slice(0, -1);
  out += `${out.length > 1 ? ',' : ''}"files":[`;
  for (let i = 0; i < files.count; i++) {
    const row = files.row[i]!;
    const same = files.sameDataAs[i]!;
    out += `${i > 0 ? ',' : ''}{"path":${pathJson(row)},"layer":"squashfs","size":${t.size[row]},"inode":${t.inode[row]}${same >= 0 ? `,"sameDataAs":${same}` : ''}}`;
    if (out.length >= chunkChars) {
      yield out;
      out = '';
    }
  }
  out += '],"extents":[';
  for (let i = 0; i < extents.length; i++) {
    out += `${i > 0 ? ',' : ''}${JSON.stringify(extents[i])}`;
    if (out.length >= chunkChars) {
      yield out;
      out = '';
    }
  }
  out += '],"tree":{"dirs":[';
  let first = true;
  for (let i = 0; i < t.length; i++) {
    if (t.type[i] !== 1) continue;
    out += `${first ? '' : ','}${JSON.stringify(t.pathOf(i))}`;
    first = false;
    if (out.length >= chunkChars) {
      yield out;
      out = '';
    }
  }
  out += '],"links":[';
  first = true;
  for (let i = 0; i < t.length; i++) {
    if (t.type[i] !== 3) continue;
    out += `${first ? '' : ','}{"path":${JSON.stringify(t.pathOf(i))},"target":${JSON.stringify(t.symlinkTarget(i))}}`;
    first = false;
    if (out.length >= chunkChars) {
      yield out;
      out = '';
    }
  }
  yield `${out}]}}`;
}

/**
 * JSON.stringify(t.pathOf(row)) for a file, without building the path: its directory's escaped
 * prefix is made once, and a name of plain ASCII (the usual case) is copied as it is stored.
 */
function filePathJson(t: EntryTable): (row: number) => string {
  const prefixes = new Map<number, string>();
  const bytes = t.dirBytes;
  return (row) => {
    const parent = t.parent[row]!;
    if (parent < 0) return JSON.stringify(t.pathOf(row));
    let prefix = prefixes.get(parent);
    if (prefix === undefined) {
      const dir = t.pathOf(parent);
      // the opening quote and the escaped directory, with its slash
      prefix = JSON.stringify(dir === '/' ? '/' : `${dir}/`).slice(0, -1);
      prefixes.set(parent, prefix);
    }
    const start = t.nameStart[row]!;
    const end = start + t.nameLength[row]!;
    let plain = true;
    for (let k = start; k < end; k++) {
      const c = bytes[k]!;
      // control characters, quote, backslash and non-ASCII need JSON.stringify's escaping / decoding
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        plain = false;
        break;
      }
    }
    return `${prefix}${plain ? bytes.toString('latin1', start, end) : JSON.stringify(t.name(row)).slice(1, -1)}"`;
  };
}
