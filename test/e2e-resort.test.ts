/**
 * Issue 4, last acceptance point, end to end: boot the live ISO under qemu with the module and the
 * block trace on, turn the module's log into a sort file with `bootprof sort --root`, rebuild the
 * squashfs with mksquashfs -sort (and the ISO), boot again with the same workload, and compare the
 * CD reads of the boots (scripts/resort-figures.mjs, also usable by hand) and their estimated time on
 * a CD drive model (`bootprof simulate`).
 *
 * Both placements of `bootprof sort` are booted. Profiled files at the beginning (the default) cut
 * the seeks and halve the seek distance, but hardly the bytes: the workload reads nearly all of
 * every file it touches, so the only bytes a layout can save are the kernel's readahead running
 * past the last file streamed into files nobody reads, and with the profile at the beginning the
 * last profiled file is followed by unprofiled ones (readahead reads 150-250 KiB of a filler there,
 * as the unsorted image does after blob.bin). With `--layout end` the profile ends where the
 * squashfs ends (last fragment block, then the tables the mount reads anyway), so readahead has
 * nothing unneeded to run into: that layout must read fewer bytes.
 * Three boots, one after another (bootAndCapture holds the machine-wide qemu lock).
 */
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './helpers/cli.js';
import {
  bootAndCapture,
  buildInitramfs,
  buildKernelModule,
  buildLiveIso,
  buildWorkloadRoot,
  cachedLiveIso,
  findDebianKernel,
  type BootResult,
} from './helpers/vm/index.js';
import { cdReadsForTest, kernelTrouble, parseStats, readGuestFile } from './helpers/vm/guest-results.js';

const FIGURES_SCRIPT = fileURLToPath(new URL('../scripts/resort-figures.mjs', import.meta.url));
const DEVICE = 'cd52-cav';
// blktrace off: this test does not use it, and its start-up sleeps only make the boots longer.
const APPEND = 'bp_blktrace=0';

interface CdFigures {
  name: string;
  reads: number;
  bytes: number;
  seeks: number;
  seekDistance: number;
}

interface SimTotals {
  totalMs: number;
  seekMs: number;
  seeks: number;
}

const kernel = findDebianKernel();
const module = await buildKernelModule(kernel);
const root = await buildWorkloadRoot();
const initrd = await buildInitramfs({ kernel, bootprofKo: module.path });
const work = t.testdir();
const unsorted = await cachedLiveIso({ root: root.dir });

/** The boot ran the whole workload and the module's log is complete. */
function checkBoot(t: Test, boot: BootResult, name: string): void {
  const guest = (file: string): string => readGuestFile(boot.guestDir, file);
  t.equal(boot.qemu.endedBy, 'poweroff', `${name}: the guest powered off by itself`);
  t.equal(guest('workload.rc').trim(), '0', `${name}: the workload ran`);
  t.match(guest('workload.out'), /workload-ok/, `${name}: the workload finished`);
  t.equal(parseStats(guest('stats.txt')).dropped, 0, `${name}: the module dropped nothing`);
  t.same(kernelTrouble(guest('dmesg.txt')), [], `${name}: no BUG/WARNING/Oops`);
}

function cli(t: Test, args: string[]): string {
  const res = runCli(args);
  t.equal(res.status, 0, `bootprof ${args.slice(0, 3).join(' ')} exits 0${res.status === 0 ? '' : `: ${res.stderr}`}`);
  return res.stdout;
}

/** `bootprof simulate`'s cost of one boot's measured reads on the CD model. */
function simulateMeasured(t: Test, iso: string, trace: string): SimTotals {
  const out = cli(t, ['simulate', '--device', DEVICE, '--image', iso, trace, '--json']);
  const json = JSON.parse(out) as { scenarios: { layout: string; devices: Record<string, SimTotals> }[] };
  const totals = json.scenarios.find((s) => s.layout.startsWith('measured'))?.devices[DEVICE];
  if (totals === undefined) throw new Error(`simulate printed no measured scenario for ${DEVICE}: ${out}`);
  return totals;
}

/**
 * What the simulator predicted from the first boot alone (its file-level replay of the profile, and
 * the image rebuilt with our sort file): printed next to the measured boots, not asserted.
 */
function predictions(t: Test, trace: string): string {
  const out = cli(t, ['simulate', '--device', DEVICE, '--image', unsorted.iso, '--root', root.dir, trace, '--json']);
  const json = JSON.parse(out) as { scenarios: { layout: string; devices: Record<string, SimTotals> }[] };
  const lines = json.scenarios
    .filter((s) => ['as is', 'sorted (rebuilt)', 'layout end'].includes(s.layout))
    .map((s) => {
      const x = s.devices[DEVICE];
      return x === undefined ? '' : `${s.layout.padEnd(16)} ${(x.totalMs / 1000).toFixed(2)} s (${x.seeks} seeks)`;
    });
  return `bootprof simulate --root (predicted from the first boot's profile, before booting the sorted images):\n${lines.join('\n')}`;
}

function change(from: number, to: number): string {
  return `${to > from ? '+' : ''}${(((to - from) / from) * 100).toFixed(1)}%`;
}

/** Paths of a mksquashfs sort file (relative, backslash-escaped) as absolute paths of the root. */
function sortFilePaths(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `/${l.replace(/ -?\d+$/, '').replace(/\\(.)/g, '$1')}`);
}

t.test('sorting by the boot profile makes the next boot read the CD with fewer seeks and fewer bytes', async (t) => {
  const first = await bootAndCapture({ iso: unsorted.iso, initrd, kernel, outDir: join(work, 'boot-unsorted'), append: APPEND });
  checkBoot(t, first, 'first boot');
  const events = join(first.guestDir, 'events.tsv');

  const boots: { name: string; iso: string; trace: string }[] = [{ name: 'unsorted', iso: unsorted.iso, trace: first.tracePath }];
  for (const layout of ['beginning', 'end'] as const) {
    // The module's log, checked against the tree mksquashfs packs (directories and symlinks dropped).
    const sortFile = join(work, `sort-${layout}.txt`);
    const sorted = runCli(['sort', '--root', root.dir, '--layout', layout, events, '-o', sortFile]);
    t.equal(sorted.status, 0, `bootprof sort --layout ${layout} exits 0`);
    if (layout === 'beginning') t.comment(sorted.stderr.trim());
    const listed = sortFilePaths(readFileSync(sortFile, 'utf8'));
    // the name with a newline cannot be written in a sort file (sort says so); every other one is there
    const missing = root.workloadFiles.filter((f) => !listed.includes(f) && !f.includes('\n'));
    t.same(missing, [], `${layout}: the sort file lists every workload file`);
    t.same(listed.filter((p) => p.includes('/filler-')), [], `${layout}: no unread filler in the sort file`);

    const image = await buildLiveIso({ root: root.dir, outDir: join(work, `image-${layout}`), sortFile });
    cli(t, ['verify', '--image', image.iso, '--sort', sortFile, '--strip-prefix', root.dir]);
    const boot = await bootAndCapture({ iso: image.iso, initrd, kernel, outDir: join(work, `boot-${layout}`), append: APPEND });
    checkBoot(t, boot, `boot sorted at the ${layout}`);
    boots.push({ name: `sorted-${layout}`, iso: image.iso, trace: boot.tracePath });
  }

  const traceArgs = boots.map((b) => `${b.name}=${b.trace}`);
  const script = spawnSync(process.execPath, [FIGURES_SCRIPT, '--json', ...traceArgs], { encoding: 'utf8' });
  t.equal(script.status, 0, `resort-figures exits 0${script.status === 0 ? '' : `: ${script.stderr}`}`);
  const figures = JSON.parse(script.stdout) as CdFigures[];
  const table = spawnSync(process.execPath, [FIGURES_SCRIPT, ...traceArgs], { encoding: 'utf8' }).stdout;

  // The script's CD is the backend whose reads the ATAPI commands name (picked independently here).
  for (const [i, boot] of boots.entries()) {
    const reads = cdReadsForTest(readFileSync(boot.trace, 'utf8'));
    t.equal(figures[i]?.reads, reads.length, `${boot.name}: the script counted the CD's reads`);
    t.equal(figures[i]?.bytes, reads.reduce((n, r) => n + r.bytes, 0), `${boot.name}: and their bytes`);
  }

  const sims = boots.map((b) => simulateMeasured(t, b.iso, b.trace));
  const simLines = boots.map((b, i) => {
    const s = sims[i]!;
    return `${b.name.padEnd(16)} ${(s.totalMs / 1000).toFixed(2)} s (seeking ${(s.seekMs / 1000).toFixed(2)} s)`;
  });
  t.comment(
    `CD reads of the three boots (qemu trace, CD drive only; scripts/resort-figures.mjs):\n${table}` +
      `bootprof simulate --device ${DEVICE}, cost of the measured reads:\n${simLines.join('\n')}`,
  );
  t.comment(predictions(t, first.tracePath));
  for (const [i, b] of boots.entries()) t.equal(sims[i]?.seeks, figures[i]?.seeks, `${b.name}: simulate counts the script's seeks`);

  const [before, beginning, end] = figures as [CdFigures, CdFigures, CdFigures];
  const [simBefore, simBeginning, simEnd] = sims as [SimTotals, SimTotals, SimTotals];
  t.ok(beginning.seeks < before.seeks, `default layout: fewer seeks (${before.seeks} -> ${beginning.seeks})`);
  t.ok(beginning.seekDistance < before.seekDistance, 'default layout: shorter seek distance');
  t.ok(simBeginning.totalMs < simBefore.totalMs, `default layout: shorter estimated ${DEVICE} time`);
  // Not asserted: see the top of the file (0-2% fewer in our runs, all of it readahead past the last profiled file).
  t.comment(`default layout: bytes read ${before.bytes} -> ${beginning.bytes} (${change(before.bytes, beginning.bytes)})`);
  t.ok(end.seeks < before.seeks, `--layout end: fewer seeks (${before.seeks} -> ${end.seeks})`);
  t.ok(end.bytes < before.bytes, `--layout end: fewer bytes read (${before.bytes} -> ${end.bytes})`);
  t.ok(end.seekDistance < before.seekDistance, '--layout end: shorter seek distance');
  t.ok(simEnd.totalMs < simBefore.totalMs, `--layout end: shorter estimated ${DEVICE} time`);
});
