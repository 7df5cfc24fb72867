import { copyFileSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT, cachedDir, fileKey } from './cache.js';
import type { DebianKernel } from './debian-kernel.js';

export const KMOD_SOURCE_DIR = join(REPO_ROOT, 'kmod');

export interface BuiltModule {
  path: string;
  /** make's output: the test checks it for compiler warnings. */
  buildLog: string;
}

/** Build kmod/ against the Debian kernel's headers in a cached copy of the sources. */
export async function buildKernelModule(kernel: DebianKernel): Promise<BuiltModule> {
  const sources = readdirSync(KMOD_SOURCE_DIR)
    .filter((n) => /\.(c|h)$/.test(n) || n === 'Kbuild' || n === 'Makefile')
    .sort();
  const key = { v: 1, kernel: kernel.version, files: sources.map((n) => fileKey(join(KMOD_SOURCE_DIR, n))) };
  const dir = await cachedDir('kmod', key, async (tmp) => {
    for (const name of sources) copyFileSync(join(KMOD_SOURCE_DIR, name), join(tmp, name));
    const { all } = await execa('make', ['-C', tmp, `KDIR=${kernel.headersDir}`], { all: true });
    writeFileSync(join(tmp, 'build.log'), all ?? '');
  });
  return { path: join(dir, 'bootprof.ko'), buildLog: readFileSync(join(dir, 'build.log'), 'utf8') };
}
