#!/usr/bin/env node
// Boot one live ISO under qemu with the block read trace on (bootprof's own captureQemu) and a raw
// results disk the guest writes a tar onto. Usage: boot.mjs ISO KERNEL INITRD OUTDIR [APPEND]
import { closeSync, ftruncateSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

// bootprof's qemu capture, from the build the run uses (BENCH_BOOTPROF_DIST) or the checkout's dist/.
const dist = process.env.BENCH_BOOTPROF_DIST;
const { captureQemu } = await import(dist ? pathToFileURL(join(dist, 'capture', 'qemu.js')).href : '../../dist/capture/qemu.js');

const [iso, kernel, initrd, outDir, append = ''] = process.argv.slice(2);
if (!iso || !kernel || !initrd || !outDir) {
  process.stderr.write('usage: boot.mjs ISO KERNEL INITRD OUTDIR [APPEND]\n');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const disk = join(outDir, 'results.img');
const fd = openSync(disk, 'w');
ftruncateSync(fd, 256 * 1024 * 1024);
closeSync(fd);
const timeoutS = Number(process.env.BENCH_BOOT_TIMEOUT ?? 900);
let last = 0;
const result = await captureQemu({
  iso, kernel, initrd, outDir,
  append: `console=ttyS0 panic=-1 loglevel=4 systemd.show_status=1 ${append}`.trim(),
  memoryMiB: Number(process.env.BENCH_MEMORY_MIB ?? 1536),
  cpus: 1,
  timeoutMs: timeoutS * 1000,
  accel: process.env.BENCH_ACCEL ?? 'auto',
  extraDrives: [{ file: disk, interface: 'virtio', format: 'raw' }],
  onProgress: (p) => {
    if (p.elapsedMs - last < 10_000) return;
    last = p.elapsedMs;
    process.stderr.write(`  boot: ${(p.elapsedMs / 1000).toFixed(0)} s, console ${p.consoleBytes} B, trace ${p.traceBytes} B\n`);
  },
});
if (result.kvmFallback) process.stderr.write(`  boot: KVM ${result.kvmFallback === 'stalled' ? 'left the guest silent' : 'failed'}; booted again under TCG\n`);
process.stderr.write(`  boot: ended by ${result.endedBy} after ${(result.durationMs / 1000).toFixed(1)} s (${result.accel})\n`);
process.stdout.write(`${JSON.stringify({ endedBy: result.endedBy, durationMs: result.durationMs, accel: result.accel, kvmFallback: result.kvmFallback ?? null })}\n`);
process.exit(result.endedBy === 'poweroff' ? 0 : 1);
