import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { FormatError, InputError, describeSystemError } from '../errors.js';
import type { Extent, ExtentKind, Layout, LayoutFile } from './layout.js';
import { isGzip } from '../util/gzip.js';

/**
 * An image manifest is the Layout of an image as `bootprof inspect --json` writes it, without the
 * image's bytes: enough to map, sort, plan readahead and simulate on a machine that does not
 * have the image (the bundled profiles ship one). It is checked like any other input.
 */
const EXTENT_KINDS: ReadonlySet<ExtentKind> = new Set<ExtentKind>([
  'data-block', 'fragment-block', 'superblock', 'compressor-options', 'inode-table', 'directory-table',
  'fragment-table', 'export-table', 'id-table', 'xattr-table', 'iso-system-area', 'iso-volume-descriptor',
  'iso-path-table', 'iso-directory', 'iso-file', 'iso-boot-catalog', 'unknown',
]);

/** A manifest of a few hundred MB is not a manifest. */
const MAX_MANIFEST_BYTES = 512 * 1024 * 1024;

/** JSON, or gzip (images themselves are never gzip-compressed: they are read in place). */
export function looksLikeManifest(head: Buffer): boolean {
  if (isGzip(head)) return true;
  const text = head.subarray(0, 64).toString('latin1').trimStart();
  return text.startsWith('{');
}

export function readLayoutManifest(path: string): Layout {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new InputError(describeSystemError(path, err), { cause: err });
  }
  if (isGzip(bytes)) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_MANIFEST_BYTES });
    } catch (err) {
      throw new FormatError(path, 0, `not a gzip-compressed image manifest, or larger than 512 MiB unpacked: ${(err as Error).message}`);
    }
  }
  if (bytes.length > MAX_MANIFEST_BYTES) throw new FormatError(path, 0, 'manifest larger than 512 MiB');
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    throw new FormatError(path, m ? Number(m[1]) : undefined, `not a JSON image manifest: ${(err as Error).message}`);
  }
  return validateLayout(raw, path);
}

function validateLayout(raw: unknown, path: string): Layout {
  const fail = (what: string): never => {
    throw new FormatError(path, undefined, `image manifest: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null) return fail('not an object');
  const o = raw as Record<string, unknown>;
  const size = o.size;
  if (!isCount(size)) return fail('"size" must be a non-negative integer');
  if (!Array.isArray(o.files)) return fail('"files" must be an array');
  if (!Array.isArray(o.extents)) return fail('"extents" must be an array');
  const files: LayoutFile[] = o.files.map((f: unknown, i: number) => {
    const r = f as Record<string, unknown>;
    if (typeof r?.path !== 'string' || !isCount(r.size) || (r.layer !== 'squashfs' && r.layer !== 'iso')) {
      return fail(`files[${i}] needs path, size and layer`);
    }
    const file: LayoutFile = { path: r.path, layer: r.layer, size: r.size };
    if (isCount(r.inode)) file.inode = r.inode;
    if (r.sameDataAs !== undefined) {
      if (!isCount(r.sameDataAs) || r.sameDataAs >= (o.files as unknown[]).length) return fail(`files[${i}].sameDataAs out of range`);
      file.sameDataAs = r.sameDataAs;
    }
    return file;
  });
  let end = 0;
  const extents: Extent[] = o.extents.map((e: unknown, i: number) => {
    const r = e as Record<string, unknown>;
    if (!isCount(r?.start) || !isCount(r.length) || !EXTENT_KINDS.has(r.kind as ExtentKind)) {
      return fail(`extents[${i}] needs start, length and a known kind`);
    }
    if (r.start < end) return fail(`extents[${i}] overlaps the previous extent or is out of order`);
    if (r.start + r.length > size) return fail(`extents[${i}] runs past the image size`);
    end = r.start + r.length;
    const extent: Extent = { start: r.start, length: r.length, kind: r.kind as ExtentKind };
    const checkFile = (v: unknown, what: string): number => (isCount(v) && v < files.length ? v : fail(`extents[${i}].${what} out of range`));
    if (r.file !== undefined) extent.file = checkFile(r.file, 'file');
    if (r.block !== undefined) extent.block = isCount(r.block) ? r.block : fail(`extents[${i}].block`);
    if (r.fragment !== undefined) extent.fragment = isCount(r.fragment) ? r.fragment : fail(`extents[${i}].fragment`);
    if (r.files !== undefined) {
      if (!Array.isArray(r.files)) return fail(`extents[${i}].files must be an array`);
      extent.files = r.files.map((v: unknown) => checkFile(v, 'files'));
    }
    if (r.fileBlocks !== undefined) {
      if (!Array.isArray(r.fileBlocks) || !r.fileBlocks.every(isCount)) return fail(`extents[${i}].fileBlocks must be counts`);
      extent.fileBlocks = r.fileBlocks as number[];
    }
    if (r.uncompressed === true) extent.uncompressed = true;
    return extent;
  });
  const layout: Layout = { source: typeof o.source === 'string' ? o.source : path, size, files, extents };
  for (const key of ['squashfsOffset', 'squashfsSize', 'blockSize'] as const) {
    const v = o[key];
    if (v !== undefined) layout[key] = isCount(v) ? v : fail(`"${key}" must be a non-negative integer`);
  }
  if (typeof o.compressor === 'string') layout.compressor = o.compressor;
  if (o.tree !== undefined) {
    const tree = o.tree as Record<string, unknown> | null;
    const dirs = tree?.dirs;
    const links = tree?.links;
    if (!Array.isArray(dirs) || !dirs.every((d) => typeof d === 'string')) return fail('"tree.dirs" must be an array of paths');
    if (!Array.isArray(links) || !links.every((l) => typeof l?.path === 'string' && typeof l?.target === 'string')) {
      return fail('"tree.links" must be an array of {path, target}');
    }
    layout.tree = { dirs: dirs as string[], links: links as { path: string; target: string }[] };
  }
  return layout;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/**
 * Keep only what a profile needs: the extents of the given files (and of files sharing their data),
 * every fragment block one of them uses, and all metadata; file indexes are renumbered. The data of
 * other files becomes 'unknown' extents (adjacent ones merged), so positions and sizes still add up
 * when a simulator moves blocks around.
 */
export function pruneLayout(layout: Layout, keep: ReadonlySet<number>): Layout {
  const wanted = new Set<number>();
  for (const i of keep) {
    wanted.add(i);
    const same = layout.files[i]?.sameDataAs;
    if (same !== undefined) wanted.add(same);
  }
  const order = [...wanted].sort((a, b) => a - b);
  const renumber = new Map(order.map((old, i) => [old, i]));
  const files = order.map((old) => {
    const f = { ...layout.files[old]! };
    if (f.sameDataAs !== undefined) f.sameDataAs = renumber.get(f.sameDataAs)!;
    return f;
  });
  const extents: Extent[] = [];
  const elide = (e: Extent): void => {
    const last = extents[extents.length - 1];
    if (last !== undefined && last.kind === 'unknown' && last.start + last.length === e.start) last.length += e.length;
    else extents.push({ start: e.start, length: e.length, kind: 'unknown' });
  };
  for (const e of layout.extents) {
    if (e.kind === 'data-block' && e.files !== undefined) {
      // a block shared by several files: keep the owners that stay
      const kept = e.files.map((f, k) => [f, e.fileBlocks?.[k]] as const).filter(([f]) => renumber.has(f));
      if (kept.length === 0) elide(e);
      else {
        const out: Extent = { ...e, file: renumber.get(kept[0]![0])!, files: kept.map(([f]) => renumber.get(f)!) };
        if (e.fileBlocks !== undefined) out.fileBlocks = kept.map(([, b]) => b ?? 0);
        extents.push(out);
      }
    } else if (e.kind === 'data-block' || e.kind === 'iso-file') {
      if (e.file === undefined || !renumber.has(e.file)) elide(e);
      else extents.push({ ...e, file: renumber.get(e.file)! });
    } else if (e.kind === 'fragment-block') {
      const sharers = (e.files ?? []).filter((f) => renumber.has(f));
      if (sharers.length === 0) elide(e);
      else extents.push({ ...e, files: sharers.map((f) => renumber.get(f)!) });
    } else {
      extents.push({ ...e });
    }
  }
  return { ...layout, files, extents };
}
