import { mkdirSync } from 'node:fs';
import { CACHE_ROOT, cachedDir, fileKey } from './cache.js';
import { join } from 'node:path';
import { execa } from 'execa';

export interface LiveIsoOptions {
  /** Directory to pack as the squashfs root. */
  root: string;
  /** Directory that receives filesystem.squashfs and live.iso. */
  outDir: string;
  /** mksquashfs sort file (`path priority`), e.g. from `bootprof sort`. */
  sortFile?: string;
  /** mksquashfs action file (-action-file), e.g. the no-fragments file of `bootprof sort --actions`. */
  actionFile?: string;
  compressor?: 'gzip' | 'xz' | 'lzo' | 'lz4' | 'zstd';
  blockSize?: number;
  /**
   * More mksquashfs options, e.g. the line `bootprof tune` prints ("-b 262144"). A `-b` here
   * replaces blockSize. Options only: `-e` (which eats every argument after it) is refused.
   */
  extraArgs?: readonly string[];
}

export interface LiveIso {
  iso: string;
  squashfs: string;
  /** Path of the squashfs inside the ISO. */
  squashfsIsoPath: string;
  /** Byte offset of the squashfs inside the ISO, as xorriso reports it. */
  squashfsOffset: number;
}

/**
 * A live-CD-shaped ISO: ISO9660 (Rock Ridge) holding /live/filesystem.squashfs, built with the real
 * mksquashfs and xorriso. No boot loader: the harness boots the kernel with -kernel/-initrd.
 */
export async function buildLiveIso(options: LiveIsoOptions): Promise<LiveIso> {
  mkdirSync(options.outDir, { recursive: true });
  const squashfs = join(options.outDir, 'filesystem.squashfs');
  const iso = join(options.outDir, 'live.iso');
  const extra = [...(options.extraArgs ?? [])];
  if (extra.includes('-e')) throw new Error('buildLiveIso: -e in extraArgs would swallow the options after it');
  const blockSize = extra.includes('-b') ? [] : ['-b', String(options.blockSize ?? 131072)];
  const args = [options.root, squashfs, '-noappend', '-no-progress', '-quiet', '-all-root',
    '-comp', options.compressor ?? 'gzip', ...blockSize, '-mkfs-time', '0', '-all-time', '0',
    '-processors', '1'];
  // -sort must come before -e, which eats every argument after it (DESIGN.md).
  if (options.sortFile !== undefined) args.push('-sort', options.sortFile);
  if (options.actionFile !== undefined) args.push('-action-file', options.actionFile);
  args.push(...extra);
  await execa('mksquashfs', args);
  await execa('xorriso', ['-as', 'mkisofs', '-quiet', '-R', '-V', 'BOOTPROF_LIVE', '-o', iso, '-graft-points',
    `/live/filesystem.squashfs=${squashfs}`]);
  return buildLiveIsoInfo(options.outDir);
}

/**
 * buildLiveIso for a root that lives in the content-addressed work cache (buildWorkloadRoot,
 * buildCliRoot): the root's path already names its content, so the ISO is built once per root,
 * sort file and options.
 */
export async function cachedLiveIso(options: Omit<LiveIsoOptions, 'outDir'>): Promise<LiveIso> {
  if (!options.root.startsWith(CACHE_ROOT)) throw new Error(`${options.root} is not in the work cache`);
  const key = {
    v: 1,
    ...options,
    sortFile: options.sortFile === undefined ? undefined : fileKey(options.sortFile),
    actionFile: options.actionFile === undefined ? undefined : fileKey(options.actionFile),
  };
  const dir = await cachedDir('iso', key, async (tmp) => {
    await buildLiveIso({ ...options, outDir: tmp });
  }, 6);
  return buildLiveIsoInfo(dir);
}

async function buildLiveIsoInfo(dir: string): Promise<LiveIso> {
  const iso = join(dir, 'live.iso');
  const { stdout } = await execa('xorriso', ['-indev', iso, '-find', '/live/filesystem.squashfs', '-exec', 'report_lba']);
  const lba = /File data lba:\s*\d+\s*,\s*(\d+)\s*,/.exec(stdout)?.[1];
  if (lba === undefined) throw new Error(`xorriso did not report the squashfs LBA: ${stdout}`);
  return { iso, squashfs: join(dir, 'filesystem.squashfs'), squashfsIsoPath: '/live/filesystem.squashfs', squashfsOffset: Number(lba) * 2048 };
}
