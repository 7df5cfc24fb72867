/**
 * Issue 14 in the VM: capture without the module, through tracefs.
 * 1. One boot, two captures: bootprof.ko and the early-boot tracefs script
 *    (integrations/tracefs/bootprof-tracefs-arm, run from the initramfs before any driver loads)
 *    record the same workload; the sort files built from each list the same squashfs files, and the
 *    inode numbers the kernel reports are the image reader's.
 *    blktrace runs from the initramfs in that boot: its opens of the initramfs's libc share names
 *    with image files, and must not reach the profile.
 * 2. lockdown=integrity: Debian's kernel refuses the unsigned module, and the real
 *    `bootprof capture --method tracefs` (node, dist/) inside the guest still captures the boot.
 *    module.sig_enforce=1 (no lockdown): refused too; the CLI adopts the instance the early-boot
 *    script armed in the initramfs.
 * 3. Both sort files rebuilt into images and booted again: the far seeks of the re-boots compare.
 * Boots run one after another (bootAndCapture holds the machine-wide qemu lock).
 */
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { openImage } from '../src/image/open.js';
import { readTrace } from '../src/trace/read.js';
import type { FileEvent } from '../src/trace/types.js';
import { runCli } from './helpers/cli.js';
import {
  bootAndCapture,
  bootCliImage,
  buildInitramfs,
  buildKernelModule,
  buildLiveIso,
  buildWorkloadRoot,
  cachedLiveIso,
  findDebianKernel,
} from './helpers/vm/index.js';
import { kernelTrouble, parseEventsForTest, parseStats, readGuestFile } from './helpers/vm/guest-results.js';

const FIGURES_SCRIPT = fileURLToPath(new URL('../scripts/resort-figures.mjs', import.meta.url));
/** Files whose first accesses are this close in time may come in either order in the two logs. */
const ORDER_SLACK_NS = 5_000_000;

const kernel = findDebianKernel();
const module = await buildKernelModule(kernel);
const root = await buildWorkloadRoot();
const initrd = await buildInitramfs({ kernel, bootprofKo: module.path });
const image = await cachedLiveIso({ root: root.dir });
const work = t.testdir();

function cli(t: Test, args: string[]): string {
  const res = runCli(args);
  t.equal(res.status, 0, `bootprof ${args.slice(0, 3).join(' ')} exits 0${res.status === 0 ? '' : `: ${res.stderr}`}`);
  return res.stdout;
}

/** Paths of a mksquashfs sort file, in its order. */
function sortPaths(text: string): string[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => `/${l.replace(/ -?\d+$/, '').replace(/\\(.)/g, '$1')}`);
}

/** Per-CPU stats saved by bootprof-tracefs-save / capture --method tracefs: total loss. */
function tracefsLoss(text: string): { cpus: number; entries: number; lost: number } {
  let cpus = 0;
  let entries = 0;
  let lost = 0;
  for (const line of text.split('\n')) {
    if (/^cpu\d+$/.test(line)) cpus++;
    const m = /^(entries|overrun|commit overrun|dropped events):\s*(\d+)/.exec(line);
    if (m === null) continue;
    if (m[1] === 'entries') entries += Number(m[2]);
    else lost += Number(m[2]);
  }
  return { cpus, entries, lost };
}

/** First-access time (ns) of each file in a `bootprof map` profile. */
function firstTimes(profileTsv: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of profileTsv.split('\n').slice(1)) {
    const f = line.split('\t');
    if (f[1] === 'file' && f[3] !== '-') out.set(f[4]!.replace(/\\t/g, '\t').replace(/\\n/g, '\n').replace(/\\\\/g, '\\'), Number(f[3]));
  }
  return out;
}

let moduleSort = '';
let tracefsSort = '';

t.test('one boot, two captures: the module and tracefs profile the same squashfs files', async (t) => {
  const boot = await bootAndCapture({ iso: image.iso, initrd, kernel, outDir: join(work, 'both'), cpus: 2, append: 'bp_tracefs=1' });
  const guest = (name: string): string => readGuestFile(boot.guestDir, name);
  t.equal(boot.qemu.endedBy, 'poweroff');
  t.match(boot.console, /bootprof-vm: bootprof loaded/, 'without lockdown the unsigned module loads');
  t.match(boot.console, /bootprof-vm: tracefs armed/);
  t.equal(guest('workload.rc').trim(), '0');
  t.same(kernelTrouble(guest('dmesg.txt')), [], 'no kernel warnings');
  t.equal(parseStats(guest('stats.txt')).dropped, 0, 'the module dropped nothing');
  const loss = tracefsLoss(guest('tracefs/tracefs-stats.txt'));
  t.ok(loss.cpus === 2 && loss.entries > 1000, `tracefs: ${loss.entries} events on ${loss.cpus} CPU(s)`);
  t.equal(loss.lost, 0, 'tracefs lost nothing (overrun + dropped events)');
  t.match(guest('tracefs-save.err'), /saved \/out\/tracefs\/tracefs-trace\.txt; 0 events lost/);

  const eventsPath = join(boot.guestDir, 'events.tsv');
  const tracePath = join(boot.guestDir, 'tracefs', 'tracefs-trace.txt');
  const trace = await readTrace(tracePath);
  t.equal(trace.format, 'tracefs', 'detected from its content');
  t.same(trace.notes, [], 'no loss markers, nothing odd');
  const fills = trace.events.filter((e): e is FileEvent => e.kind === 'fault');
  const execs = new Set(trace.events.filter((e) => e.kind === 'exec').map((e) => (e as FileEvent).path));
  // the kernel reports the name exec was given (chroot /root /bin/bash), not the resolved path
  for (const p of ['/bin/bash', '/usr/bin/md5sum', '/usr/bin/gzip', '/usr/bin/dd']) t.ok(execs.has(p), `tracefs exec of ${p}`);
  t.ok(trace.events.some((e) => e.kind === 'open'), 'the do_filp_open kprobe logged opens');

  // The kernel's inode numbers are the image reader's: the module logs overlay opens with the lower
  // (squashfs) dev and ino, and the image names that inode by the same path.
  const opened = openImage(image.iso);
  const inodeOf = new Map(opened.layout.files.filter((f) => f.layer === 'squashfs').map((f) => [f.path, f.inode]));
  opened.close();
  const { events } = parseEventsForTest(guest('events.tsv'));
  const withIno = events.filter((e) => e.event === 'open' && e.dev === '7:0' && inodeOf.has(e.path));
  t.ok(withIno.length > 20, `${withIno.length} module opens of image files through the overlay`);
  t.same(withIno.filter((e) => Number(e.ino) !== inodeOf.get(e.path)).map((e) => e.path), [], 'dev 7:0 ino = the image reader\'s inode number');
  const moduleInodes = new Set(events.filter((e) => e.event === 'fault' && e.dev === '7:0').map((e) => Number(e.ino)));
  const tracefsInodes = new Set(fills.filter((e) => e.dev === '7:0').map((e) => e.ino!));
  t.same([...tracefsInodes].sort((a, b) => a - b), [...moduleInodes].sort((a, b) => a - b), 'the same inodes filled on 7:0 in both logs');

  // The sort files: the same files; order may differ only between first accesses a few ms apart.
  moduleSort = join(work, 'sort-module.txt');
  tracefsSort = join(work, 'sort-tracefs.txt');
  cli(t, ['sort', '--image', image.iso, eventsPath, '-o', moduleSort]);
  cli(t, ['sort', '--image', image.iso, tracePath, '-o', tracefsSort]);
  const byModule = sortPaths(readFileSync(moduleSort, 'utf8'));
  const byTracefs = sortPaths(readFileSync(tracefsSort, 'utf8'));
  t.ok(byModule.length > 20, `${byModule.length} files in the module's sort file`);
  t.same([...byTracefs].sort(), [...byModule].sort(), 'the same set of profiled squashfs files');
  t.same(root.workloadFiles.filter((f) => !byTracefs.includes(f) && !f.includes('\n')), [], 'every workload file');
  // order: the first-access sort (the default plan also moves files by the ranges read, and
  // read(2) ranges the module logs are not page-cache fills)
  const firstAccess = (trace: string): string[] =>
    sortPaths(cli(t, ['sort', '--image', image.iso, '--order', 'first-access', trace]));
  const orderModule = firstAccess(eventsPath);
  const orderTracefs = firstAccess(tracePath);
  t.same([...orderTracefs].sort(), [...orderModule].sort(), 'first-access sorts: the same files');
  const times = firstTimes(cli(t, ['map', '--image', image.iso, tracePath]));
  const moduleTimes = firstTimes(cli(t, ['map', '--image', image.iso, eventsPath]));
  const rank = new Map(orderTracefs.map((p, i) => [p, i]));
  const swapped: string[] = [];
  let discordant = 0;
  let widest = 0;
  for (let i = 0; i < orderModule.length; i++) {
    for (let j = i + 1; j < orderModule.length; j++) {
      const [a, b] = [orderModule[i]!, orderModule[j]!];
      if (rank.get(a)! < rank.get(b)!) continue;
      discordant++;
      // the two logs disagree on which came first: how far apart does each put them?
      const gapTracefs = Math.abs((times.get(a) ?? 0) - (times.get(b) ?? 0));
      const gapModule = Math.abs((moduleTimes.get(a) ?? 0) - (moduleTimes.get(b) ?? 0));
      const gap = Math.min(gapTracefs, gapModule);
      widest = Math.max(widest, gap);
      const ms = (n: number): string => (n / 1e6).toFixed(1);
      t.comment(`ordered differently: ${a} / ${b}: ${ms(gapModule)} ms apart in the module's log, ${ms(gapTracefs)} ms in tracefs's`);
      if (gap > ORDER_SLACK_NS) swapped.push(`${a} / ${b} (${ms(gapModule)} ms, ${ms(gapTracefs)} ms)`);
    }
  }
  t.comment(`order: ${discordant} file pairs ordered differently; widest first-access gap between them ${(widest / 1e6).toFixed(2)} ms`);
  t.same(swapped, [], `first-access order differs only between files one of the logs puts within ${ORDER_SLACK_NS / 1e6} ms`);
});

t.test('lockdown=integrity: the unsigned module is refused, capture --method tracefs works', async (t) => {
  const { boot, iso: cliIso, guest } = await bootCliImage({
    workloadRoot: root.dir,
    modulePath: module.path,
    kernel,
    initrd,
    outDir: join(work, 'lockdown'),
    append: 'lockdown=integrity bpmode=cli bp_method=tracefs bp_try_insmod=1 bp_blktrace=0',
  });
  t.equal(boot.qemu.endedBy, 'poweroff');
  t.match(guest('lockdown.txt'), /\[integrity\]/, 'the kernel runs in integrity lockdown');
  t.not(guest('insmod.rc').trim(), '0', `insmod bootprof.ko fails: ${guest('insmod.err').trim()}`);
  t.match(guest('dmesg.txt'), /Lockdown: insmod: unsigned module loading is restricted/, 'refused by lockdown');
  t.equal(guest('workload.rc').trim(), '0', 'the workload ran');
  t.equal(guest('cli.rc').trim(), '0', `bootprof capture --method tracefs exited 0: ${guest('cli.out')}`);
  t.match(guest('cli.out'), /^bootprof: logged \d+ events \(cpu0 \d+\), lost 0; wrote \/tmp\/capture\/tracefs-trace\.txt/m);
  t.same(kernelTrouble(guest('dmesg.txt')), [], 'no kernel warnings');
  t.equal(tracefsLoss(guest('cli-capture/tracefs-stats.txt')).lost, 0);
  const sortFile = join(work, 'sort-lockdown.txt');
  cli(t, ['sort', '--image', cliIso, join(boot.guestDir, 'cli-capture', 'tracefs-trace.txt'), '-o', sortFile]);
  const listed = sortPaths(readFileSync(sortFile, 'utf8'));
  t.same(root.workloadFiles.filter((f) => !listed.includes(f) && !f.includes('\n')), [], 'the sort file lists every workload file');
});

t.test('module.sig_enforce=1: the module is refused, the CLI saves what the initramfs armed', async (t) => {
  const { boot, iso: cliIso, guest } = await bootCliImage({
    workloadRoot: root.dir,
    modulePath: module.path,
    kernel,
    initrd,
    outDir: join(work, 'sig-enforce'),
    append: 'module.sig_enforce=1 bp_tracefs=1 bpmode=cli bp_method=tracefs bp_try_insmod=1 bp_blktrace=0',
  });
  t.equal(boot.qemu.endedBy, 'poweroff');
  t.match(guest('lockdown.txt'), /\[none\]/, 'no lockdown this time');
  t.not(guest('insmod.rc').trim(), '0', `insmod bootprof.ko fails: ${guest('insmod.err').trim()}`);
  t.match(boot.console, /bootprof-vm: tracefs armed/, 'armed from the initramfs, before the CD was mounted');
  t.equal(guest('cli.rc').trim(), '0', `bootprof capture --method tracefs exited 0: ${guest('cli.out')}`);
  t.match(guest('cli.out'), /tracefs instance was already armed \(early-boot script\)/);
  t.match(guest('cli.out'), /, lost 0; wrote /);
  const tracePath = join(boot.guestDir, 'cli-capture', 'tracefs-trace.txt');
  // the mount is in the log (the loop's first read of filesystem.squashfs on the CD, at offset 0):
  // it began before the CLI could run
  t.match(readFileSync(tracePath, 'latin1'), / mm_filemap_add_to_page_cache: dev 11:0 ino [0-9a-f]+ pfn=0x[0-9a-f]+ ofs=0 /);
  const sortFile = join(work, 'sort-sig-enforce.txt');
  cli(t, ['sort', '--image', cliIso, tracePath, '-o', sortFile]);
  const listed = sortPaths(readFileSync(sortFile, 'utf8'));
  t.same(root.workloadFiles.filter((f) => !listed.includes(f) && !f.includes('\n')), [], 'the sort file lists every workload file');
});

t.test('re-boot: the tracefs sort seeks far about as often as the module sort', async (t) => {
  if (moduleSort === '' || tracefsSort === '') {
    t.fail('the first boot did not produce both sort files');
    return;
  }
  const traces: string[] = [];
  for (const [name, sortFile] of [['module', moduleSort], ['tracefs', tracefsSort]] as const) {
    const sorted = await buildLiveIso({ root: root.dir, outDir: join(work, `image-${name}`), sortFile });
    const boot = await bootAndCapture({ iso: sorted.iso, initrd, kernel, outDir: join(work, `reboot-${name}`), append: 'bp_blktrace=0' });
    t.equal(readGuestFile(boot.guestDir, 'workload.rc').trim(), '0', `${name}: the workload ran`);
    traces.push(`${name}=${boot.tracePath}`);
  }
  const res = spawnSync(process.execPath, [FIGURES_SCRIPT, '--json', ...traces], { encoding: 'utf8' });
  t.equal(res.status, 0, res.stderr);
  const rows = JSON.parse(res.stdout) as { name: string; farSeeks: number; seeks: number; bytes: number }[];
  const [mod, tfs] = rows;
  t.comment(rows.map((r) => `${r.name}: ${r.farSeeks} far seeks, ${r.seeks} seeks, ${r.bytes} bytes`).join('\n'));
  t.ok(mod !== undefined && tfs !== undefined && tfs.farSeeks <= Math.ceil(mod.farSeeks * 1.05), 'tracefs sort: far seeks within 5% of the module sort');
});
