import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseKmodEvents } from '../src/trace/kmod-events.js';
import { parseTrace, readTrace } from '../src/trace/read.js';
import { isFileEvent, type BlockEvent, type FileEvent } from '../src/trace/types.js';
import { formatErrorOf, traceFixture as fixture } from './helpers/trace-samples.js';

const HEADER = '#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath\n';

t.test('captured module log: every line, every kind', async (t) => {
  const path = fixture('captured/bootprof-events.tsv');
  const lines = readFileSync(path, 'utf8').split('\n').slice(1).filter((l) => l.length > 0);
  const trace = await readTrace(path);
  t.equal(trace.format, 'bootprof-events');
  t.equal(trace.events.length, lines.length);
  const kinds = lines.map((l) => l.split('\t')[2]);
  t.same(
    trace.events.map((e) => (e.kind === 'block' ? 'sqread' : e.kind)),
    kinds,
    'one event per line, in order',
  );
  t.same(new Set(kinds).size, 5, 'the sample has all five kinds');
  const sq = trace.events.filter((e): e is BlockEvent => e.kind === 'block');
  t.ok(sq.every((e) => e.squashfsOffset === true && e.device === '7:0'), 'sqread: offsets inside the squashfs on 7:0');
  t.same(trace.devices!.map((d) => [d.id, d.kind]), [['7:0', 'squashfs']]);
  const faults = trace.events.filter((e): e is FileEvent => e.kind === 'fault');
  t.ok(faults.length > 0 && faults.every((e) => e.ino !== undefined && e.length! % 4096 === 0));
  t.ok(faults.some((e) => e.path === ''), 'faults may carry only dev/ino');
  const times = trace.events.map((e) => e.timeNs!);
  t.same(times, lines.map((l) => Number(l.split('\t')[1])), 'time_ns as logged');
  t.same(trace.notes, [], 'gapless');
});

t.test('escaping and event fields', async (t) => {
  const trace = await readTrace(fixture('kmod-events.tsv'));
  const exec = trace.events.find((e) => e.kind === 'exec') as FileEvent;
  t.equal(exec.path, '/usr/bin/with\ttab\nand newline\\backslash');
  t.equal(exec.comm, 'my\tcomm');
  t.equal(exec.ino, 31);
  const fault = trace.events.filter(isFileEvent).find((e) => e.kind === 'fault' && e.ino === 31)!;
  t.same([fault.path, fault.dev, fault.offset, fault.length], ['', '7:0', 8192, 16384]);
  const meta = trace.events.find((e) => e.kind === 'block' && e.length === 0) as BlockEvent;
  t.same([meta.offset, meta.device], [1667958, '7:0'], 'a metadata sqread has length 0');
});

t.test('truncated and garbled logs end with a FormatError naming the line', async (t) => {
  const bytes = readFileSync(fixture('captured/bootprof-events.tsv'));
  const lineStart = bytes.indexOf('\n', 5000) + 1;
  const cut = formatErrorOf(() => parseTrace(bytes.subarray(0, lineStart + 25), 'cut.tsv'));
  t.equal(cut.offset, lineStart);
  t.match(cut.message, /^cut\.tsv at byte \d+: line \d+: \d+ fields, expected 10/);

  // cut inside the last field: right column count, no newline
  const pathStart = bytes.indexOf('\t/usr/', 5000) + 1;
  const cut2 = formatErrorOf(() => parseTrace(bytes.subarray(0, pathStart + 4), 'cut2.tsv'));
  t.equal(cut2.offset, bytes.lastIndexOf(0x0a, pathStart) + 1);
  t.match(cut2.message, /cut short/);

  const mutate = (from: string, to: string): Buffer => {
    const text = bytes.toString('latin1');
    const at = text.indexOf(from, 3000);
    return Buffer.from(text.slice(0, at) + to + text.slice(at + from.length), 'latin1');
  };
  t.match(formatErrorOf(() => parseKmodEvents(mutate('\tfault\t', '\tfaulty\t'), 'k.tsv')).message, /unknown event "faulty"/);
  t.match(formatErrorOf(() => parseKmodEvents(mutate('\t7:0\t', '\t7x0\t'), 'k.tsv')).message, /bad dev "7x0"/);
  t.match(formatErrorOf(() => parseKmodEvents(mutate('\t4096\t', '\t40z6\t'), 'k.tsv')).message, /needs a decimal offset and length/);
  t.match(formatErrorOf(() => parseKmodEvents(Buffer.from('#bootprof-events v2\tseq\n'), 'h.tsv')).message, /unexpected header/);
  const nul = Buffer.from(bytes);
  nul[4000] = 0;
  t.equal(formatErrorOf(() => parseKmodEvents(nul, 'n.tsv')).offset, 4000);
  const backwards = Buffer.from(`${HEADER}5\t1\topen\t1\tc\t-\t-\t-\t-\t/a\n4\t2\topen\t1\tc\t-\t-\t-\t-\t/b\n`);
  t.match(formatErrorOf(() => parseKmodEvents(backwards, 'b.tsv')).message, /b\.tsv at byte \d+: line 3: seq 4 does not follow 5/);
  const gap = parseKmodEvents(Buffer.from(`${HEADER}0\t1\topen\t1\tc\t-\t-\t-\t-\t/a\n3\t2\topen\t1\tc\t-\t-\t-\t-\t/b\n`), 'gap.tsv');
  t.match(gap.notes!.join(), /2 events missing/);
  const nothing = Buffer.from(`${HEADER}0\t1\tfault\t1\tc\t7:0\t-\t0\t4096\t-\n`);
  t.match(formatErrorOf(() => parseKmodEvents(nothing, 'x.tsv')).message, /neither a path nor an inode/);
});

// How fast: npm run bench:parse (a test asserts behaviour, never time).
t.test('a million events parse, every one', async (t) => {
  const lines = [HEADER.trimEnd()];
  for (let i = 0; i < 1_000_000; i++) {
    lines.push(`${i}\t${7e9 + i * 1000}\tfault\t${100 + (i % 50)}\tbash\t7:0\t${i % 5000}\t${(i % 100) * 4096}\t4096\t/usr/lib/x86_64-linux-gnu/libc.so.${i % 300}`);
  }
  const bytes = Buffer.from(`${lines.join('\n')}\n`);
  const result = parseKmodEvents(bytes, 'big.tsv');
  t.equal(result.events.length, 1_000_000);
  t.match(result.events.at(-1), { kind: 'fault', seq: 999_999, path: `/usr/lib/x86_64-linux-gnu/libc.so.${999_999 % 300}` }, 'the last line, whole');
});
