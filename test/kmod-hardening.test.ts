/**
 * Issue 11, the module's side, in one boot of Debian's kernel (bpmode=hardening in init-script.ts):
 * bad parameters fail the load with -EINVAL; a hook that cannot attach unwinds cleanly while a reader
 * tries to hold a debugfs file open (no oops: the kernel runs with oops=panic); reads are logged as
 * they happened, not as asked; the files are 0400; a container's accesses are not logged; more than
 * 64 pending opens are all seen; and after the first drop the log stays the first N events
 * (even where a smaller record would still fit).
 */
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseKmodEvents } from '../src/trace/kmod-events.js';
import {
  bootAndCapture,
  buildBigread,
  buildInitramfs,
  buildKernelModule,
  buildWorkloadRoot,
  cachedLiveIso,
  findDebianKernel,
} from './helpers/vm/index.js';
import { kernelTrouble, parseEventsForTest, parseStats, readGuestFile } from './helpers/vm/guest-results.js';

const kernel = findDebianKernel();
const module = await buildKernelModule(kernel);
const root = await buildWorkloadRoot();
const image = await cachedLiveIso({ root: root.dir });
const initrd = await buildInitramfs({ kernel, bootprofKo: module.path, extraFiles: { bigread: await buildBigread() } });
const boot = await bootAndCapture({
  iso: image.iso,
  initrd,
  kernel,
  outDir: join(t.testdir(), 'boot'),
  append: 'bpmode=hardening bp_blktrace=0',
});
const guest = (name: string): string => readGuestFile(boot.guestDir, name);
const dmesg = guest('dmesg.txt');
const DATA = '/root/usr/share/bootprof-data';

t.test('the boot ran to the end without a kernel complaint', async (t) => {
  t.equal(boot.qemu.endedBy, 'poweroff', 'powered off by itself (oops=panic would have stopped it)');
  t.match(boot.console, /bootprof-vm: hardening done/);
  t.same(kernelTrouble(dmesg), [], 'no Oops, BUG or WARNING in dmesg');
  t.equal(guest('rmmod.rc'), '0\n0\n', 'both loads unloaded');
});

t.test('bad parameters fail the load with EINVAL and say why', async (t) => {
  const rows = guest('badparam.txt').trim().split('\n');
  t.equal(rows.length, 7, guest('badparam.txt'));
  for (const row of rows) t.match(row, /^\S* [1-9]\d*$/, `refused: ${row}`);
  t.notMatch(guest('badparam.txt'), /loaded/, 'none stayed loaded');
  t.equal((guest('badparam.err').match(/Invalid argument/g) ?? []).length, 7, 'every insmod failed with EINVAL');
  t.match(dmesg, /bootprof: hooks=: unknown hook "bogus"/);
  t.match(dmesg, /bootprof: hooks= names no hook/);
  t.match(dmesg, /bootprof: fs_types=: more than 8 filesystem types/);
  t.match(dmesg, /bootprof: fs_types=: "abcdefghijklmnop\.\.\." is longer than 31 characters/);
  t.match(dmesg, /bootprof: scope=host: expected live or all/);
  t.match(dmesg, /bootprof: maxactive=8 is out of range/);
  t.match(dmesg, /bootprof: fail_hook=nothing is not a hook name/);
});

t.test('a hook that cannot attach unwinds the others; no debugfs file was ever open', async (t) => {
  const rows = guest('failhook.txt').trim().split('\n');
  t.same(rows.map((r) => r.split(' ')[0]), ['exec', 'fault', 'open', 'read', 'sqread']);
  for (const row of rows) t.match(row, /^\w+ [1-9]\d*$/, `insmod failed, nothing left behind: ${row}`);
  t.equal(guest('failhook-reader.txt'), '', 'debugfs never appeared during a failing load');
  for (const hook of ['exec', 'fault', 'open', 'read', 'sqread']) t.match(dmesg, new RegExp(`bootprof: cannot attach the ${hook} hook`));
  t.equal(guest('load.rc').trim(), '0', 'a normal load works afterwards');
});

t.test('debugfs setup that fails while a reader holds a file open: init waits for the close, no oops', async (t) => {
  t.match(guest('faildebugfs.txt'), /^debugfs [1-9]\d*\n$/, 'insmod failed, nothing left loaded, no debugfs left');
  t.match(guest('faildebugfs.err'), /Cannot allocate memory/);
  t.match(guest('faildebugfs-reader.txt'), /^opened (events|files|stats)$/m, 'the reader held a debugfs file open during the failing load');
  t.match(dmesg, /bootprof: cannot create debugfs file control: -12/);
  // the reader's close ran before the module's code was freed: oops=panic would have stopped the boot
});

const events = parseKmodEvents(Buffer.from(guest('events.tsv')), 'events.tsv');
const raw = parseEventsForTest(guest('events.tsv')).events;

t.test('debugfs files are root-only', async (t) => {
  t.equal(guest('modes.txt'), [
    '/sys/kernel/debug/bootprof/events 400',
    '/sys/kernel/debug/bootprof/files 400',
    '/sys/kernel/debug/bootprof/stats 400',
    '/sys/kernel/debug/bootprof/control 200',
    '',
  ].join('\n'));
});

t.test('reads are logged as the kernel did them, not as the caller asked', async (t) => {
  const size = Number(guest('filler-a.size'));
  t.equal(guest('bigread.txt'), `pread-far 0\nread-huge -1 14\npread-normal 4096\npread-tail 10 ${size - 10}\n`, 'what the calls returned');
  const reads = raw.filter((e) => e.event === 'read' && e.path === `${DATA}/filler-a.bin`).map((e) => [e.offset, e.length]);
  t.same(reads, [['8192', '4096'], [String(size - 10), '10']], 'only the bytes really read');
  t.ok(raw.every((e) => e.offset === '-' || Number(e.offset) < 2 ** 53), 'no absurd offsets anywhere');
  t.same(events.notes, [], 'the parser keeps every row');
});

t.test('scope=live: a container is not logged, a sandboxed service on the live root is', async (t) => {
  t.equal(guest('scope.txt'), 'container 0\nsandboxed 0\n', 'both ran');
  const paths = new Set(raw.map((e) => e.path));
  t.notOk([...paths].some((p) => p.includes('filler-c')), 'nothing of the container');
  t.ok(paths.has('/sq/usr/share/bootprof-data/filler-m.bin'), 'the sandboxed read');
});

t.test('150 opens pending at once are all logged, none missed', async (t) => {
  const blocked = Number(guest('fifo-blocked.txt'));
  t.ok(blocked > 64, `${blocked} readers were blocked inside do_filp_open at once`);
  const opens = raw.filter((e) => e.event === 'open' && e.path === '/root/tmp/bp-fifo');
  t.equal(opens.length, 151, '150 readers and the writer');
  const stats = parseStats(guest('stats.txt'));
  t.equal(stats.missed_open, 0);
  t.equal(stats.missed, 0);
  t.equal(stats.dropped, 0);
  t.equal(stats.full, 0);
});

t.test('drops: full is sticky, so the log is the first N events and the counters agree', async (t) => {
  t.equal(guest('load-small.rc').trim(), '0');
  const a = parseStats(guest('drop-stats-1.txt'));
  const b = parseStats(guest('drop-stats-2.txt'));
  t.equal(a.full, 1, 'the 16 KiB log filled');
  t.ok((a.dropped ?? 0) > 0);
  const free = (a.bytes_max ?? 0) - (a.bytes_used ?? 0);
  t.ok(free >= 88, `${free} bytes were still free: a short-path record (88 bytes) would have fit`);
  t.equal(b.dropped, (a.dropped ?? 0) + 20, 'all 20 short-path opens dropped');
  t.equal(b.logged, a.logged, 'nothing logged after the first drop');
  t.equal(b.dropped, (b.produced ?? 0) - (b.logged ?? 0));
  const log = parseEventsForTest(guest('drop-events.tsv')).events;
  t.equal(log.length, b.logged);
  t.ok(log.every((e, i) => e.seq === i), 'seq gapless from 0');
  t.same(log.filter((e) => e.path === '/root/tmp/s'), [], 'no short-path open in the log');
  t.ok(log.every((e) => e.event === 'open' && e.path.length === 200), 'only the long-path opens, the first N events');
});
