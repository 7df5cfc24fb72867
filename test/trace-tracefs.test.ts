import t, { type Test } from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FormatError } from '../src/errors.js';
import { readLayoutManifest } from '../src/image/manifest.js';
import { mapTrace } from '../src/map/index.js';
import { parseTrace } from '../src/trace/parse-whole.js';
import { looksLikeTracefs, parseTracefs } from '../src/trace/tracefs.js';
import type { FileEvent } from '../src/trace/types.js';
import { runCli } from './helpers/cli.js';

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/trace/tracefs/${name}`, import.meta.url));
const TRACE = fixture('trace.txt');
const PIPE = fixture('trace-pipe-smp.txt');
const LAYOUT = fixture('layout.json');
const traceBytes = readFileSync(TRACE);

t.test('a real `trace` file from Debian 6.1: detected, every kind of event parsed', async (t) => {
  const trace = parseTrace(traceBytes, 'trace.txt');
  t.equal(trace.format, 'tracefs');
  t.same(trace.notes, []);
  const events = trace.events as FileEvent[];
  const kinds = new Set(events.map((e) => e.kind));
  t.same([...kinds].sort(), ['exec', 'fault', 'open']);
  // line 64: "bash-128 [000] ..... 9.223564: mm_filemap_add_to_page_cache: dev 7:0 ino 10 pfn=0x2fde1 ofs=0 order=0"
  const fill = events.find((e) => e.line === 64);
  t.match(fill, { kind: 'fault', path: '', dev: '7:0', ino: 16, offset: 0, length: 4096, pid: 128, comm: 'bash', timeNs: 9_223_564_000 });
  t.ok(events.every((e, i) => e.seq === i), 'seq in order');
  // the kernel prints paths raw: a name with a tab and a newline spans two lines, joined back
  const odd = events.find((e) => e.kind === 'open' && e.path.includes('odd'));
  t.equal(odd?.path, '/usr/share/bootprof-data/odd\ttab\\back\nline.txt');
  t.ok(events.some((e) => e.kind === 'exec' && e.path === '/usr/bin/md5sum'));
});

t.test('trace_pipe output of two CPUs: tgid column, no irq flags, lost-event markers', async (t) => {
  const bytes = readFileSync(PIPE);
  t.ok(looksLikeTracefs(bytes), 'detected without the # tracer header');
  const trace = parseTrace(bytes, 'pipe');
  t.equal(trace.format, 'tracefs');
  t.match(trace.notes, [/^20 events lost in the trace buffer \(CPU 0: 17, CPU 1: 3\)/]);
  const events = trace.events as FileEvent[];
  t.same(
    events.map((e) => [e.kind, e.path, e.ino, e.offset, e.length]),
    [
      ['fault', '', 16, 0, 4096],
      ['exec', '/usr/bin/ls', undefined, undefined, undefined],
      ['open', '/etc/ld.so.cache', undefined, undefined, undefined],
      ['fault', '', 42, 8192, 16384], // order=2: four pages
      ['fault', '', 5, 4096, 4096],
      ['exec', '/usr/bin/two words', undefined, undefined, undefined],
    ],
  );
  t.equal(events[3]!.comm, 'my prog-with-dash', 'a comm with spaces and dashes, before a (tgid) column');
  t.equal(events[4]!.dev, '11:0');
});

t.test('per-CPU logs given one after another are merged by time', async (t) => {
  const lines = readFileSync(PIPE, 'latin1').split('\n');
  const cpu1 = lines.filter((l) => l.includes('[001]')).join('\n');
  const cpu0 = lines.filter((l) => l.includes('[000]')).join('\n');
  const trace = parseTracefs(Buffer.from(`${cpu1}\n${cpu0}\n`), 'cat');
  const times = trace.events.map((e) => e.timeNs!);
  t.same(times, [...times].sort((a, b) => a - b));
  t.same(trace.events.map((e) => e.seq), [0, 1, 2, 3, 4, 5]);
});

t.test('the log maps through the image manifest: inode numbers name the image files', async (t) => {
  const layout = readLayoutManifest(LAYOUT);
  const mapped = mapTrace(parseTrace(traceBytes, TRACE), layout);
  const paths = new Set(mapped.fileEvents.map((e) => e.path));
  for (const p of ['/usr/bin/bash', '/usr/lib/x86_64-linux-gnu/libc.so.6', '/usr/bin/ls']) t.ok(paths.has(p), p);
  t.ok(mapped.stats.resolvedInodeEvents > 300, `${mapped.stats.resolvedInodeEvents} fills resolved`);
  t.same(mapped.inodeDevices, ['7:0'], 'the loop device is taken as the squashfs');
});

t.test('map, sort, readahead, simulate and report accept the log with a manifest', async (t) => {
  const dir = t.testdir();
  const map = runCli(['map', '--image', LAYOUT, TRACE]);
  t.equal(map.status, 0, map.stderr);
  t.match(map.stdout, /^\d+\tfile\t\d+\t\d+\t\/usr\/bin\/bash\t/m);
  const sort = runCli(['sort', '--image', LAYOUT, TRACE]);
  t.equal(sort.status, 0, sort.stderr);
  t.match(sort.stdout, /^usr\/bin\/bash -?\d+$/m);
  t.match(sort.stdout, /^usr\/lib\/x86_64-linux-gnu\/libc\.so\.6 -?\d+$/m);
  const ra = runCli(['readahead', '--null', '--image', LAYOUT, TRACE]);
  t.equal(ra.status, 0, ra.stderr);
  t.match(ra.stdout, /\/usr\/bin\/bash\0/);
  const sim = runCli(['simulate', '--image', LAYOUT, TRACE, '--json']);
  t.equal(sim.status, 0, sim.stderr);
  t.ok(JSON.parse(sim.stdout).scenarios.length > 0);
  const report = runCli(['report', '--image', LAYOUT, TRACE, '-o', join(dir, 'r.html')]);
  t.equal(report.status, 0, report.stderr);
  t.match(readFileSync(join(dir, 'r.html'), 'utf8'), /usr\/bin\/bash/);
});

/** Parse `text` and return the one-line message it is refused with. */
function refusal(t: Test, text: string | Buffer, name = 'bad.txt'): string {
  try {
    parseTrace(Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1'), name);
  } catch (err) {
    t.type(err, FormatError);
    const message = (err as Error).message;
    t.notMatch(message, /\n/, 'one line');
    return message;
  }
  t.fail('accepted');
  return '';
}

/** Parse `text`: it is accepted, and exactly one row is named in the notes (file, byte, line). */
function oneSkippedRow(t: Test, text: string | Buffer, name = 'bad.txt', whole: Buffer = traceBytes): string {
  const good = parseTrace(whole, 'good.txt');
  const trace = parseTrace(Buffer.isBuffer(text) ? text : Buffer.from(text, 'latin1'), name);
  const skipped = (trace.notes ?? []).filter((n) => n.startsWith('row skipped: '));
  t.equal(skipped.length, 1, `one row skipped in ${name}: ${(trace.notes ?? []).join(' | ')}`);
  t.ok(trace.events.length >= good.events.length - 1, 'the other rows are kept');
  return (skipped[0] ?? '').slice('row skipped: '.length);
}

t.test('bad rows: each is named (file, byte, line) and left out; the rest of the capture is kept', async (t) => {
  const text = traceBytes.toString('latin1');
  // cut in the middle of an event line (a copy interrupted)
  const cut = text.slice(0, text.indexOf('\n', 20_000) - 30);
  const cutLine = cut.split('\n').length;
  const before = Buffer.from(cut.slice(0, cut.lastIndexOf('\n') + 1), 'latin1');
  t.match(oneSkippedRow(t, cut, 'cut.txt', before), new RegExp(`^cut\\.txt at byte \\d+: line ${cutLine}: cut short \\(no newline at the end of the log\\)`));

  // one row in another layout (an index instead of ofs=)
  const other = text.replace(/ ofs=(\d+) order=0/, ' index=$1');
  const at = other.slice(0, other.indexOf('index=')).split('\n').length;
  t.match(
    oneSkippedRow(t, other, 'other-kernel.txt'),
    new RegExp(`^other-kernel\\.txt at byte \\d+: line ${at}: mm_filemap_add_to_page_cache fields are not "dev M:m ino HEX \\.\\.\\. ofs=BYTES \\[order=N\\]" \\(a kernel with another field layout\\?\\)`),
  );
  t.match(oneSkippedRow(t, text.replace('ino 10 pfn', 'inode 10 pfn')), /line \d+: mm_filemap_add_to_page_cache fields are not/);
  // a line that is no event
  t.match(oneSkippedRow(t, `${text}garbage here\n`), /^bad\.txt at byte \d+: line \d+: not a tracefs event line: "garbage here"$/);
  t.match(oneSkippedRow(t, `${text}\u0000\u0001\n`), /line \d+: binary data in a tracefs log/);
  // two logs run together: the second header is named; both logs' events are kept
  const twice = parseTrace(Buffer.from(`${text}${text}`, 'latin1'), 'twice.txt');
  t.match((twice.notes ?? []).join('\n'), /line \d+: a header line after the events: two logs run together\?/);
  t.equal(twice.events.length, 2 * parseTrace(traceBytes, 'once.txt').events.length);
  // an open kprobe whose path never closes within 8 lines
  const unclosed = `# tracer: nop\n            cat-1     [000] .....     1.000000: bootprof_open: (do_filp_open+0x0/0x160) path="/a\n${'x\n'.repeat(9)}            cat-1     [000] .....     2.000000: sched_process_exec: filename=/bin/cat pid=1 old_pid=1\n`;
  t.match((parseTrace(Buffer.from(unclosed), "unclosed.txt").notes ?? []).join('\n'), /line 2: bootprof_open fields are not/);
});

t.test('bad input: a file that is mostly not a tracefs log is refused in one line', async (t) => {
  const header = '# tracer: nop\n            cat-1     [000] .....     1.000000: sched_process_exec: filename=/bin/cat pid=1 old_pid=1\n';
  const message = refusal(t, `${header}${'this is not an event\n'.repeat(200)}`);
  t.match(message, /^bad\.txt at byte \d+: \d+ bad rows and 1 good ones: this is not a tracefs log \(first: bad\.txt at byte \d+: line 3: not a tracefs event line/);
});

t.test('bad input: the log of another image names the line of the first fill that does not fit', async (t) => {
  const dir = t.testdir();
  const trace = parseTrace(traceBytes, 'trace.txt');
  // the same files, but each 100 bytes long: fills far past the end of many of them
  const layout = readLayoutManifest(LAYOUT);
  const shrunk = { ...layout, files: layout.files.map((f) => ({ ...f, size: 100 })) };
  t.throws(() => mapTrace(trace, shrunk), {
    name: 'FormatError',
    message: /^trace\.txt: line \d+: page-cache fill of inode \d+ at byte \d+ lies past the end of \/\S+ \(100 bytes\) in .*, as do \d+ of \d+ fills: the log was recorded on another image; give the image it was captured on$/,
  });
  // no file of the image has the inode numbers
  const renumbered = { ...layout, files: layout.files.map((f) => ({ ...f, inode: (f.inode ?? 0) + 100_000 })) };
  t.throws(() => mapTrace(trace, renumbered), { message: /^trace\.txt: line 63: page-cache fill of inode 1 on 7:0: no regular file of .* has that inode number, nor do \d+ of \d+ fills/ });
  // through the CLI: exit 1, one line
  const other = join(dir, 'other.json');
  writeFileSync(other, JSON.stringify(renumbered));
  const r = runCli(['sort', '--image', other, TRACE]);
  t.equal(r.status, 1);
  t.match(r.stderr, /^bootprof: .*trace\.txt: line 63: page-cache fill of inode 1 on 7:0: no regular file/);
  t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
});

t.test('without an image the log is refused: its opens alone would be another profile', async (t) => {
  const dir = t.testdir({ usr: { bin: { bash: 'x' } } });
  const r = runCli(['sort', '--root', dir, TRACE]);
  t.equal(r.status, 1);
  t.match(r.stderr, /^bootprof: .*trace\.txt: a tracefs log names files by inode; give --image \(the image or its manifest\) to map them\n$/);
});

t.test('opens and execs count only after the squashfs appears, and before the switch to the real root only for files the log fills', async (t) => {
  const layout = readLayoutManifest(LAYOUT);
  const line = (time: string, event: string, fields: string, pid = 128): string =>
    `            bash-${pid}     [000] .....     ${time}: ${event}: ${fields}`;
  const open = (time: string, path: string): string => line(time, 'bootprof_open', `(do_filp_open+0x0/0x160) path="${path}"`);
  const fill = (time: string, ino: string, ofs: number): string =>
    line(time, 'mm_filemap_add_to_page_cache', `dev 7:0 ino ${ino} pfn=0x1 ofs=${ofs} order=0`);
  const bash = layout.files.find((f) => f.path === '/usr/bin/bash')!.inode!.toString(16);
  const trace = (...lines: string[]): string[] => {
    const mapped = mapTrace(parseTrace(Buffer.from(['# tracer: nop', ...lines, ''].join('\n')), 'paths.txt'), layout);
    return mapped.fileEvents.filter((e) => e.kind !== 'fault').map((e) => e.path);
  };
  const initramfs = [
    open('1.000000', '/usr/bin/ls'), // the initramfs's own file of that name: no squashfs yet
    ...Array.from({ length: 8 }, (_, i) => fill(`2.00000${i}`, bash, i * 4096)),
    open('3.000000', '/bin/bash'), // through the /bin symlink: filled, kept
    open('3.000001', '/usr/bin/cat'), // an image file the log never fills: the initramfs's own
    open('3.000002', '/etc/ld.so.cache'), // not in the image: passes, the profile drops it
    line('3.000003', 'sched_process_exec', 'filename=/usr/bin/cat pid=128 old_pid=128'),
  ];
  t.same(trace(...initramfs, line('4.000000', 'sched_process_exec', 'filename=/sbin/init pid=1 old_pid=1', 1), open('5.000000', '/usr/bin/cat')), [
    '/bin/bash',
    '/etc/ld.so.cache',
    '/sbin/init',
    '/usr/bin/cat', // after the switch: the real root's
  ]);
  // no switch in the log (a capture started in the running system): opens after the first fill stand
  t.same(trace(...initramfs), ['/bin/bash', '/usr/bin/cat', '/etc/ld.so.cache', '/usr/bin/cat']);
});
