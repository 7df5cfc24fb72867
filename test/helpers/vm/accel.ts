import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { QemuCaptureResult } from '../../../src/capture/qemu.js';
import { CACHE_ROOT } from './cache.js';

/**
 * Where /dev/kvm opens but hangs the guest (guest-stall.ts), each test process would spend the stall
 * window once before captureQemu falls back to TCG. The first stall is written down for this boot of
 * the machine (the kernel's boot id), and later test processes boot under TCG from the start.
 */
function markerPath(): string {
  let bootId = 'unknown';
  try {
    bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    // no procfs: the marker then lasts until the cache is cleared
  }
  return join(CACHE_ROOT, `kvm-stalled-${bootId}`);
}

/** BOOTPROF_ACCEL when set; TCG once a boot of this machine stalled under KVM; else auto. */
export function testAccel(): 'auto' | 'kvm' | 'tcg' {
  const wanted = process.env.BOOTPROF_ACCEL;
  if (wanted === 'auto' || wanted === 'kvm' || wanted === 'tcg') return wanted;
  return existsSync(markerPath()) ? 'tcg' : 'auto';
}

export function noteAccel(result: QemuCaptureResult): void {
  if (result.kvmFallback !== 'stalled') return;
  mkdirSync(CACHE_ROOT, { recursive: true });
  writeFileSync(markerPath(), `a guest stalled under KVM; test boots use TCG\n`);
}
