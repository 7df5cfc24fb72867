import { join } from 'node:path';
import { bootAndCapture, buildInitramfs, buildKernelModule, buildWorkloadRoot, cachedLiveIso, findDebianKernel } from './index.js';
const kernel = findDebianKernel();
const ko = await buildKernelModule(kernel);
const root = await buildWorkloadRoot();
const image = await cachedLiveIso({ root: root.dir });
const initrd = await buildInitramfs({ kernel, bootprofKo: ko.path });
const r = await bootAndCapture({ iso: image.iso, initrd, kernel, outDir: '/tmp/bp-stress-default', cpus: 2, append: process.argv.slice(2).join(' ') });
console.log(r.qemu.endedBy, r.qemu.durationMs);
