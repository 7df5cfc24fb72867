import { bootAndCapture, type BootResult } from './boot.js';
import { buildCliRoot } from './cli-root.js';
import type { DebianKernel } from './debian-kernel.js';
import { readGuestFile } from './guest-results.js';
import { cachedLiveIso } from './live-iso.js';

export interface CliBoot {
  boot: BootResult;
  /** The live ISO booted: the workload root plus the real CLI and bootprof.ko. */
  iso: string;
  /** A file the guest wrote to /out. */
  guest: (name: string) => string;
}

/**
 * Boot the image in which the guest runs the real `bootprof capture` itself (`bpmode=cli` and the
 * rest in `append`), with the memory node and the project need.
 */
export async function bootCliImage(options: {
  workloadRoot: string;
  modulePath: string;
  kernel: DebianKernel;
  initrd: string;
  outDir: string;
  append: string;
}): Promise<CliBoot> {
  const cliRoot = await buildCliRoot(options.workloadRoot, options.modulePath);
  const image = await cachedLiveIso({ root: cliRoot, compressor: 'lz4' });
  const boot = await bootAndCapture({
    iso: image.iso,
    initrd: options.initrd,
    kernel: options.kernel,
    outDir: options.outDir,
    memoryMiB: 1024,
    append: options.append,
  });
  return { boot, iso: image.iso, guest: (name) => readGuestFile(boot.guestDir, name) };
}
