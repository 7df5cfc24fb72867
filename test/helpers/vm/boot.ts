import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { captureQemu, type QemuCaptureResult } from '../../../src/capture/qemu.js';
import type { DebianKernel } from './debian-kernel.js';
import { noteAccel, testAccel } from './accel.js';
import { withQemuLock } from './qemu-lock.js';

export interface BootOptions {
  iso: string;
  initrd: string;
  kernel: DebianKernel;
  /** Everything from this boot lands here: qemu-trace.log, console.log, guest/ (the guest's /out). */
  outDir: string;
  /** Extra kernel parameters, e.g. "bpmode=stress bp_buf_kb=64". */
  append?: string;
  timeoutMs?: number;
  memoryMiB?: number;
  accel?: 'auto' | 'kvm' | 'tcg';
  timestamps?: boolean;
  cpus?: number;
}

export interface BootResult {
  qemu: QemuCaptureResult;
  tracePath: string;
  consolePath: string;
  /** The guest's /out directory, unpacked from the results disk. */
  guestDir: string;
  console: string;
}

const RESULTS_DISK_BYTES = 128 * 1024 * 1024;

/**
 * Boot Debian's kernel with our initramfs and the live ISO under qemu (block trace on), let /init
 * run its workload, then unpack what the guest wrote to the results disk.
 */
export async function bootAndCapture(options: BootOptions): Promise<BootResult> {
  mkdirSync(options.outDir, { recursive: true });
  const disk = join(options.outDir, 'results.img');
  const fd = openSync(disk, 'w');
  ftruncateSync(fd, RESULTS_DISK_BYTES);
  closeSync(fd);

  const qemu = await withQemuLock(() => captureQemu({
    iso: options.iso,
    outDir: options.outDir,
    kernel: options.kernel.vmlinuz,
    initrd: options.initrd,
    append: `console=ttyS0 panic=-1 oops=panic loglevel=4 ${options.append ?? ''}`.trim(),
    memoryMiB: options.memoryMiB ?? 768,
    timeoutMs: options.timeoutMs ?? 240_000,
    accel: options.accel ?? testAccel(),
    timestamps: options.timestamps ?? false,
    cpus: options.cpus ?? 1,
    extraDrives: [{ file: disk, interface: 'virtio', format: 'raw' }],
  }));
  noteAccel(qemu);
  const guestDir = join(options.outDir, 'guest');
  mkdirSync(guestDir, { recursive: true });
  // The guest wrote a plain tar at the start of the disk; GNU tar stops at its end-of-archive blocks.
  await execa('tar', ['-xf', disk, '-C', guestDir, '--no-overwrite-dir'], { reject: false });
  const console = existsSync(qemu.consolePath) ? readFileSync(qemu.consolePath, 'latin1') : '';
  return { qemu, tracePath: qemu.tracePath, consolePath: qemu.consolePath, guestDir, console };
}
