/**
 * Regenerate test/fixtures/trace/captured/ from two real boots (see its README.md):
 *   node --loader @isaacs/ts-node-temp-fork-for-pr-2009/esm test/helpers/vm/capture-fixtures.ts [WORKDIR]
 * Boot 1: 1 vCPU, no timestamps; boot 2: 2 vCPUs, -msg timestamp=on. Runs the qemus one at a time.
 */
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './cache.js';
import { bootAndCapture, buildInitramfs, buildKernelModule, buildWorkloadRoot, cachedLiveIso, findDebianKernel } from './index.js';

const work = process.argv[2] ?? '/tmp/bootprof-fixtures';
const dest = join(REPO_ROOT, 'test/fixtures/trace/captured');
const kernel = findDebianKernel();
const ko = await buildKernelModule(kernel);
const root = await buildWorkloadRoot();
const image = await cachedLiveIso({ root: root.dir });
const initrd = await buildInitramfs({ kernel, bootprofKo: ko.path });

/** First `lines` lines, plus blkparse's trailing per-CPU summary when asked. */
function head(text: string, lines: number, keepSummary = false): string {
  const all = text.split('\n');
  const summary = keepSummary ? all.findIndex((l) => /^CPU\d+ \(/.test(l)) : -1;
  const kept = all.slice(0, Math.min(lines, summary >= 0 ? summary : all.length));
  return `${[...kept, ...(summary >= 0 ? all.slice(summary) : [])].join('\n').replace(/\n*$/, '\n')}`;
}

const one = await bootAndCapture({ iso: image.iso, initrd, kernel, outDir: join(work, 'boot1') });
const g1 = (name: string): string => readFileSync(join(one.guestDir, name), 'utf8');
mkdirSync(join(dest, 'smp2'), { recursive: true });
writeFileSync(join(dest, 'bootprof-events.tsv'), head(g1('events.tsv'), 401));
writeFileSync(join(dest, 'bootprof-files.list'), g1('files.list'));
writeFileSync(join(dest, 'bootprof-stats.txt'), g1('stats.txt'));
copyFileSync(one.tracePath, join(dest, 'qemu-trace.log'));
writeFileSync(join(dest, 'blkparse-sr0.txt'), head(g1('blkparse-sr0.txt'), 300, true));
writeFileSync(join(dest, 'blkparse-loop0.txt'), head(g1('blkparse-loop0.txt'), 300, true));
for (const f of ['sr0.blktrace.0', 'loop0.blktrace.0']) copyFileSync(join(one.guestDir, 'blktrace', f), join(dest, f));

const two = await bootAndCapture({ iso: image.iso, initrd, kernel, outDir: join(work, 'boot2'), cpus: 2, timestamps: true });
copyFileSync(two.tracePath, join(dest, 'qemu-trace-timestamps.log'));
for (const f of ['sr0.blktrace.0', 'sr0.blktrace.1']) copyFileSync(join(two.guestDir, 'blktrace', f), join(dest, 'smp2', f));
copyFileSync(join(two.guestDir, 'blkparse-sr0.txt'), join(dest, 'smp2', 'blkparse-sr0.txt'));
console.log(`squashfs at ISO byte ${image.squashfsOffset}; boots took ${one.qemu.durationMs} and ${two.qemu.durationMs} ms`);
