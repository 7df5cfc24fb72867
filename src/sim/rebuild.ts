import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError, ToolError } from '../errors.js';
import { renderSortFile } from '../emit/sort-file.js';
import type { Extent, Layout, LayoutFile } from '../image/layout.js';
import { openImage } from '../image/open.js';
import { HostTree } from '../tree/host-tree.js';
import { selectRegularFiles } from '../profile/select.js';
import type { ProfileEntry } from '../profile/types.js';
import type { Candidate } from './candidates.js';

export interface RebuildOptions {
  /** The tree the image was built from (mksquashfs's source). */
  root: string;
  /** The image as built: its compressor and block size are reused, and its ISO part kept. */
  base: Layout;
  entries: readonly ProfileEntry[];
  /** A directory we may write the sort file and the new squashfs into. */
  workDir: string;
}

export interface Rebuilt {
  layout: Layout;
  /** Files the sort file lists. */
  written: number;
}

/**
 * Build the squashfs again with real mksquashfs and our sort file, and return its layout in the
 * base image's coordinates: the new squashfs placed where the old one was inside the ISO, with the
 * ISO's extents before it kept (what follows the squashfs on the ISO is not read at boot).
 */
export async function rebuildWithSortFile(options: RebuildOptions): Promise<Rebuilt> {
  const tree = new HostTree(options.root);
  const selection = selectRegularFiles(options.entries, tree);
  const sort = renderSortFile(selection.files, { format: 'mksquashfs', placement: 'beginning', topLevel: tree.topLevel() });
  if (sort.written === 0) throw new InputError(`no profiled file is a regular file of ${options.root}`);
  const sortFile = join(options.workDir, 'distrib.sort');
  const image = join(options.workDir, 'rebuilt.squashfs');
  writeFileSync(sortFile, sort.text);
  const args = [options.root, image, '-noappend', '-no-progress', '-quiet'];
  if (options.base.compressor !== undefined) args.push('-comp', options.base.compressor);
  if (options.base.blockSize !== undefined) args.push('-b', String(options.base.blockSize));
  args.push('-sort', sortFile); // before any -e, which eats every argument after it
  await runMksquashfs(options.root, args);
  const opened = openImage(image);
  let inner: Layout;
  try {
    inner = opened.layout;
  } finally {
    opened.close();
  }
  return { layout: placeLike(options.base, inner), written: sort.written };
}

/**
 * The base image rebuilt by real mksquashfs from `root` with our sort file, as a candidate layout
 * (simulate and report --root). The sort file and the squashfs live in a temporary directory that
 * is removed again.
 */
export async function rebuiltCandidate(options: Omit<RebuildOptions, 'workDir'>): Promise<{ candidate: Candidate; written: number }> {
  const workDir = mkdtempSync(join(tmpdir(), 'bootprof-rebuild-'));
  try {
    const rebuilt = await rebuildWithSortFile({ ...options, workDir });
    const candidate: Candidate = {
      name: 'sorted (rebuilt)',
      description: 'our sort file, rebuilt with real mksquashfs from --root (same compressor and block size)',
      layout: rebuilt.layout,
    };
    return { candidate, written: rebuilt.written };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** Run mksquashfs; a refusal becomes one ToolError line with mksquashfs's own last message. */
export async function runMksquashfs(root: string, args: readonly string[]): Promise<void> {
  try {
    const { execa } = await import('execa'); // loaded when a tool runs, not at start-up
    await execa('mksquashfs', args, { stdin: 'ignore' });
  } catch (err) {
    const e = err as { stderr?: string; shortMessage?: string };
    // mksquashfs says what is wrong first, then prints its usage or the list of compressors
    const lines = (e.stderr ?? '').split('\n').map((l) => l.trim()).filter((l) => l !== '');
    const why = lines.find((l) => /error|not supported|invalid|unknown|can't|cannot|failed|missing/i.test(l)) ?? lines[0] ?? e.shortMessage ?? String(err);
    throw new ToolError(`mksquashfs failed building ${root}: ${why}`, { cause: err });
  }
}

/** The rebuilt squashfs at the base's squashfs offset, after the base's ISO extents that precede it. */
function placeLike(base: Layout, inner: Layout): Layout {
  const offset = base.squashfsOffset ?? 0;
  const files: LayoutFile[] = inner.files.slice();
  const extents: Extent[] = [];
  const remap = new Map<number, number>();
  for (const e of base.extents) {
    if (e.start + e.length > offset) continue;
    const copy: Extent = { ...e };
    if (e.file !== undefined) {
      let i = remap.get(e.file);
      if (i === undefined) {
        i = files.length;
        files.push(base.files[e.file]!);
        remap.set(e.file, i);
      }
      copy.file = i;
    }
    delete copy.files;
    extents.push(copy);
  }
  for (const e of inner.extents) extents.push({ ...e, start: e.start + offset });
  return {
    ...inner,
    source: `${base.source} (rebuilt)`,
    size: offset + inner.size,
    squashfsOffset: offset,
    squashfsSize: inner.size,
    files,
    extents,
  };
}
