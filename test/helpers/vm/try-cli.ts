// Manual driver for the in-guest CLI boot: node --loader ... test/helpers/vm/try-cli.ts OUTDIR
import { join } from 'node:path';
import { buildCliRoot, buildInitramfs, buildKernelModule, buildLiveIso, buildWorkloadRoot, bootAndCapture, findDebianKernel } from './index.js';

const out = process.argv[2] ?? '/tmp/bp-cli';
const t0 = Date.now();
const kernel = findDebianKernel();
const ko = await buildKernelModule(kernel);
const root = await buildWorkloadRoot();
const cliRoot = await buildCliRoot(root.dir, ko.path);
console.log('cli root', Date.now() - t0, 'ms');
const iso = await buildLiveIso({ root: cliRoot, outDir: join(out, 'image') });
const initrd = await buildInitramfs({ kernel, bootprofKo: ko.path });
console.log('built in', Date.now() - t0, 'ms', initrd, iso.iso);
const r = await bootAndCapture({ iso: iso.iso, initrd, kernel, outDir: join(out, 'boot'), append: 'bpmode=cli bp_blktrace=0', memoryMiB: 1024 });
console.log(r.qemu.endedBy, r.qemu.durationMs, 'ms', r.qemu.accel, r.guestDir);
