import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseQemuLog } from '../src/trace/qemu.js';
import { readTrace } from '../src/trace/read.js';
import { parseTrace } from '../src/trace/parse-whole.js';
import type { BlockEvent, Trace } from '../src/trace/types.js';
import { traceFixture as fixture } from './helpers/trace-samples.js';
const blocks = (events: readonly unknown[]): BlockEvent[] => events as BlockEvent[];

t.test('captured qemu log (no timestamps): the CD device, probes and the results disk', async (t) => {
  const path = fixture('captured/qemu-trace.log');
  const text = readFileSync(path, 'latin1');
  const trace = await readTrace(path);
  t.equal(trace.format, 'qemu');
  const events = blocks(trace.events);
  // Independent count from the raw text: every blk_co_preadv line, minus one 512-byte probe per blk pointer.
  const blkLines = text.split('\n').filter((l) => l.startsWith('blk_co_preadv '));
  const pointers = new Set(blkLines.map((l) => l.split(' ')[2]));
  const probes = [...pointers].filter((p) => {
    const first = blkLines.find((l) => l.split(' ')[2] === p)!;
    return / offset 0 bytes 512 /.test(first);
  });
  t.ok(probes.length >= 1, 'the log has format probes');
  t.equal(events.length, blkLines.length - probes.length, 'ide events are not counted on top of blk events');
  const cd = trace.devices!.find((d) => d.kind === 'cdrom');
  t.ok(cd, 'the CD drive is recognised from the ide_atapi_cmd_read events');
  // every ATAPI read starts where a read of the CD device starts
  const cdStarts = new Set(events.filter((e) => e.device === cd!.id).map((e) => e.offset));
  const ideReads = [...text.matchAll(/ide_atapi_cmd_read IDEState: \S+; read \w+: LBA=(\d+) nb_sectors=(\d+)/g)];
  t.ok(ideReads.length > 10);
  t.equal(ideReads.filter((m) => cdStarts.has(Number(m[1]) * 2048)).length, ideReads.length);
  t.same(
    events.map((e) => e.seq),
    events.map((_, i) => i),
    'seq numbers are the order of the log',
  );
  t.equal(events[0]!.timeNs, undefined, 'no timestamps without -msg timestamp=on');
});

t.test('captured qemu log with -msg timestamp=on', async (t) => {
  const trace = await readTrace(fixture('captured/qemu-trace-timestamps.log'));
  const events = blocks(trace.events);
  t.ok(events.length > 50);
  t.ok(events.every((e) => typeof e.timeNs === 'number' && e.timeNs >= 0));
  for (let i = 1; i < events.length; i++) {
    if (events[i]!.timeNs! < events[i - 1]!.timeNs!) t.fail(`time goes back at event ${i}`);
  }
  t.ok(events.at(-1)!.timeNs! > 1e9, 'a boot takes more than a second: time is in ns');
  t.ok(trace.devices!.some((d) => d.kind === 'cdrom'));
});

t.test('hand-made samples (docs/formats.md §3)', async (t) => {
  const cd = await readTrace(fixture('qemu-cdrom.log'));
  t.same(
    blocks(cd.events).map((e) => [e.offset, e.length]),
    [
      [32768, 2048],
      [34816, 2048],
      [1734656, 4096],
      [1843200, 131072],
      [1974272, 65536],
    ],
  );
  const ts = await readTrace(fixture('qemu-timestamps.log'));
  const ev = blocks(ts.events);
  t.equal(ev.length, 5, 'two probes dropped, ide events superseded by the CD blk');
  t.same(new Set(ev.map((e) => e.device)).size, 2, 'two devices');
  t.equal(ev[0]!.timeNs, 714812000, 'ns since the first line\'s second');
  t.equal(ev.find((e) => e.offset === 1048576)!.timeNs, 1400500000);
  const ideOnly = await readTrace(fixture('qemu-ide-only.log'));
  t.same(
    blocks(ideOnly.events).map((e) => [e.device, e.offset, e.length]),
    [
      ['ide@0x55d5c8a3c2c8', 16 * 2048, 2048],
      ['ide@0x55d5c8a3c2c8', 847 * 2048, 4096],
      ['ide@0x55d5c8a3c2c8', 33 * 2048, 12 * 2048],
    ],
    'without blk_co_preadv the ATAPI commands are the reads, in CD sectors',
  );
});

t.test('an IDE device whose reads do not match a blk device is kept', async (t) => {
  const log = [
    'blk_co_preadv blk 0x1000 bs 0x2000 offset 4096 bytes 4096 flags 0x0',
    'ide_atapi_cmd_read IDEState: 0x3000; read dma: LBA=100 nb_sectors=1',
    'ide_atapi_cmd_read IDEState: 0x3000; read dma: LBA=200 nb_sectors=1',
    '',
  ].join('\n');
  const trace = parseQemuLog(Buffer.from(log), 'x.log');
  t.equal(trace.events.length, 3);
  t.same(trace.devices!.map((d) => d.kind).sort(), ['cdrom', 'unknown']);
});

t.test('a truncated or garbled line is skipped and named by its byte (issue 11)', async (t) => {
  const bytes = readFileSync(fixture('captured/qemu-trace.log'));
  const notes = (trace: Trace): string => trace.notes!.join('\n');
  // cut in the middle of a blk_co_preadv line
  const lineStart = bytes.indexOf('blk_co_preadv', 2000);
  const cut = bytes.subarray(0, lineStart + 40);
  t.match(notes(parseTrace(cut, 'cut.log')), new RegExp(`row skipped: cut\\.log at byte ${lineStart}: line \\d+ is cut short`));
  // cut exactly after a number: still caught (no newline at the end)
  const afterBytes = bytes.indexOf(' bytes ', lineStart) + ' bytes 2'.length;
  t.match(notes(parseTrace(bytes.subarray(0, afterBytes), 'cut2.log')), /cut2\.log at byte \d+: line \d+ is cut short/);

  const garbled = Buffer.from(bytes);
  garbled.write('offsxt', garbled.indexOf(' offset ', 3000) + 1, 'latin1');
  t.match(notes(parseTrace(garbled, 'garbled.log')), /garbled\.log at byte \d+: line \d+: malformed blk_co_preadv/);

  const binary = Buffer.from(bytes);
  binary[1500] = 0;
  t.match(notes(parseTrace(binary, 'bin.log')), /bin\.log at byte 1500: .*binary data/);

  // nothing else in the log: no events at all
  const badLba = Buffer.from('ide_atapi_cmd_read IDEState: 0x1; read dma: LBA=-5 nb_sectors=1\n');
  t.match(notes(parseQemuLog(badLba, 'neg.log')), /neg\.log at byte 0: line 1: malformed ide_atapi_cmd_read/);
  t.throws(() => parseTrace(badLba, 'neg.log'), /no events/);
});

// How fast: npm run bench:parse (a test asserts behaviour, never time).
t.test('a million-line log parses, every line', async (t) => {
  const lines: string[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    const off = ((i * 7919) % 300_000) * 2048;
    lines.push(`12345@${1795632211 + Math.floor(i / 1000)}.${String((i * 997) % 1_000_000).padStart(6, '0')}:blk_co_preadv blk 0x55d5c7b0e8a0 bs 0x55d5c7b15000 offset ${off} bytes 4096 flags 0x0`);
  }
  const bytes = Buffer.from(`${lines.join('\n')}\n`);
  const trace = parseQemuLog(bytes, 'big.log');
  t.equal(trace.events.length, 1_000_000);
  t.match(trace.events.at(-1), { kind: 'block', offset: ((999_999 * 7919) % 300_000) * 2048, length: 4096 }, 'the last line, whole');
});
