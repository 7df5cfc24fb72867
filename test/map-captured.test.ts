import { readFileSync } from 'node:fs';
import t from 'tap';
import { readLayoutManifest } from '../src/image/manifest.js';
import { buildFileProfile, mapTrace, type BlockOwners } from '../src/map/index.js';
import { mergeBlktraceCpus } from '../src/trace/merge-cpus.js';
import { readTrace } from '../src/trace/read.js';
import { unescapeField } from '../src/trace/tsv-escape.js';
import type { BlockEvent, Trace } from '../src/trace/types.js';
import { traceFixture as fixture } from './helpers/trace-samples.js';

/**
 * The real captures of one VM boot (test/fixtures/trace/captured) mapped through the Layout of the
 * image that boot ran on (captured-layout.json, see the README beside it). Different capture
 * paths of the same boot must tell the same story.
 */
const layout = readLayoutManifest(fixture('captured-layout.json'));
const filesOf = (trace: Trace, owners: BlockOwners = 'evidence'): string[] =>
  buildFileProfile([mapTrace(trace, layout, { owners })])
    .rows.filter((r) => r.kind === 'file')
    .map((r) => r.path);
const captured = (name: string): Promise<Trace> => readTrace(fixture(`captured/${name}`));

t.test('the layout is the booted image: every squashfs data read the module logged is one whole extent', async (t) => {
  const events = await captured('bootprof-events.tsv');
  const byStart = new Map(layout.extents.map((e) => [e.start, e]));
  const reads = events.events.filter((e): e is BlockEvent => e.kind === 'block' && e.length > 100);
  t.ok(reads.length > 5);
  for (const r of reads) {
    const e = byStart.get(r.offset + layout.squashfsOffset!);
    t.ok(e !== undefined && e.length === r.length && (e.kind === 'data-block' || e.kind === 'fragment-block'), `sqread at ${r.offset}`);
  }
});

t.test('loop0 blktrace and the module\'s squashfs reads give the same files in the same order', async (t) => {
  const events = await captured('bootprof-events.tsv');
  const sqread = filesOf({ ...events, events: events.events.filter((e) => e.kind === 'block') });
  const loop = filesOf(await captured('loop0.blktrace.0'));
  t.ok(sqread.length >= 3, `the trimmed module log reaches ${sqread.length} files`);
  t.same(loop.slice(0, sqread.length), sqread, 'loop0 (1 KiB-rounded bios) starts with exactly the module\'s files');
  const loopText = filesOf(await captured('blkparse-loop0.txt'));
  t.same(loop.slice(0, loopText.length), loopText, 'blkparse of loop0 (trimmed) agrees with the binary trace');
});

t.test('qemu\'s view of the CD and the guest\'s sr0 trace give the same profile', async (t) => {
  const qemu = filesOf(await captured('qemu-trace.log'));
  const sr0 = filesOf(await captured('sr0.blktrace.0'));
  t.ok(qemu.length > 20);
  t.same(qemu, sr0, 'same boot, same reads: same files, same order');
  // The CD's readahead reads past what squashfs asked for (into files nothing opened): every owner of
  // what the CD read is a superset of what went through the loop device. (With the default evidence
  // rule the CD trace names fewer files: map-evidence.test.ts.)
  const loop = filesOf(await captured('loop0.blktrace.0'), 'all');
  const qemuAll = filesOf(await captured('qemu-trace.log'), 'all');
  t.same(loop.filter((p) => !qemuAll.includes(p)), [], 'every file squashfs read through the loop device reached the CD');
  t.comment(`readahead-only files on the CD: ${qemuAll.filter((p) => !loop.includes(p)).join(' ') || 'none'}`);

  const cpu0 = await captured('smp2/sr0.blktrace.0');
  const cpu1 = await captured('smp2/sr0.blktrace.1');
  const smp = filesOf(mergeBlktraceCpus([cpu0, cpu1])[0]!);
  const qemuTs = filesOf(await captured('qemu-trace-timestamps.log'));
  t.same(smp, qemuTs, 'second boot (2 CPUs): merged per-CPU files agree with qemu\'s timestamped log');
});

t.test('every regular file the module saw opened reached the device', async (t) => {
  const listed = readFileSync(fixture('captured/bootprof-files.list'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map(unescapeField);
  const regular = listed.filter((p) => layout.files.some((f) => f.path === p && f.size > 0));
  t.ok(regular.length > 20, `${regular.length} regular files of the image in the module's list`);
  // every owner of what the CD read (--block-owners all); the default evidence rule trades some of these for precision
  const qemu = new Set(filesOf(await captured('qemu-trace.log'), 'all'));
  t.same(regular.filter((p) => !qemu.has(p)), [], 'all of them are in the profile mapped from qemu\'s trace');
  const loop = new Set(filesOf(await captured('loop0.blktrace.0')));
  t.same(regular.filter((p) => !loop.has(p)), [], 'all of them are evidenced by the loop device\'s trace (no backing-file readahead there)');
});
