/** The VM test harness: build a live image from host packages and boot Debian's kernel on it. */
export { findDebianKernel, type DebianKernel } from './debian-kernel.js';
export { buildKernelModule, type BuiltModule } from './kmod-build.js';
export { buildWorkloadRoot, defaultWorkloadScript, type WorkloadRoot } from './workload-root.js';
export { buildLiveIso, cachedLiveIso, type LiveIso, type LiveIsoOptions } from './live-iso.js';
export { buildInitramfs, LIVE_MODULES } from './initramfs.js';
export { bootAndCapture, type BootOptions, type BootResult } from './boot.js';
export { CACHE_ROOT, cachedDir } from './cache.js';
export { buildCliRoot, GUEST_PROJECT_DIR } from './cli-root.js';
export { bootCliImage, type CliBoot } from './boot-cli.js';
export { withQemuLock } from './qemu-lock.js';
export { buildBigread } from './guest-tools.js';
