import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseKmodEvents } from '../src/trace/kmod-events.js';
import { readTrace } from '../src/trace/read.js';
import { parseTrace } from '../src/trace/parse-whole.js';
import { isFileEvent, type BlockEvent, type FileEvent } from '../src/trace/types.js';
import { runCli } from './helpers/cli.js';
import { traceFixture as fixture } from './helpers/trace-samples.js';

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

t.test('a bad row is skipped and named (line, byte); the rest of the capture is kept', async (t) => {
  const bytes = readFileSync(fixture('captured/bootprof-events.tsv'));
  const all = parseKmodEvents(bytes, 'all.tsv').events.length;
  const lineStart = bytes.indexOf('\n', 5000) + 1;
  const cut = parseTrace(bytes.subarray(0, lineStart + 25), 'cut.tsv');
  t.equal(cut.events.length, bytes.subarray(0, lineStart).toString().split('\n').length - 2, 'every whole line before the cut');
  t.match(cut.notes!.join('\n'), new RegExp(`^row skipped: cut\\.tsv at byte ${lineStart}: line \\d+: \\d+ fields, expected 10$`, 'm'));

  // cut inside the last field: right column count, no newline
  const pathStart = bytes.indexOf('\t/usr/', 5000) + 1;
  const cut2 = parseTrace(bytes.subarray(0, pathStart + 4), 'cut2.tsv');
  t.match(cut2.notes!.join(), new RegExp(`cut2\\.tsv at byte ${bytes.lastIndexOf(0x0a, pathStart) + 1}: line \\d+: cut short`));

  const mutate = (from: string, to: string): Buffer => {
    const text = bytes.toString('latin1');
    const at = text.indexOf(from, 3000);
    return Buffer.from(text.slice(0, at) + to + text.slice(at + from.length), 'latin1');
  };
  const oneBad = (from: string, to: string, message: RegExp): void => {
    const trace = parseKmodEvents(mutate(from, to), 'k.tsv');
    t.equal(trace.events.length, all - 1, `one row left out for ${JSON.stringify(to)}`);
    t.match(trace.notes!.join('\n'), message);
  };
  oneBad('\tfault\t', '\tfaulty\t', /row skipped: k\.tsv at byte \d+: line \d+: unknown event "faulty"/);
  oneBad('\t7:0\t', '\t7x0\t', /bad dev "7x0"/);
  oneBad('\t4096\t', '\t40z6\t', /needs a decimal offset and length/);
  oneBad('\t4096\t', '\t18446744073709551616\t', /needs a decimal offset and length/);
  t.throws(() => parseKmodEvents(Buffer.from('#bootprof-events v2\tseq\n'), 'h.tsv'), { name: 'FormatError', message: /unexpected header/ });
  // a NUL byte is binary data in one row: that row is skipped (more in trace-bad-rows.test.ts)
  const nul = Buffer.from(bytes);
  nul[4000] = 0;
  t.equal(parseKmodEvents(nul, 'n.tsv').events.length, all - 1);
  const backwards = Buffer.from(`${HEADER}5\t1\topen\t1\tc\t-\t-\t-\t-\t/a\n4\t2\topen\t1\tc\t-\t-\t-\t-\t/b\n6\t3\topen\t1\tc\t-\t-\t-\t-\t/c\n`);
  const back = parseKmodEvents(backwards, 'b.tsv');
  t.same(back.events.map((e) => (e as FileEvent).path), ['/a', '/c']);
  t.match(back.notes!.join(), /b\.tsv at byte \d+: line 3: seq 4 does not follow 5/);
  const gap = parseKmodEvents(Buffer.from(`${HEADER}0\t1\topen\t1\tc\t-\t-\t-\t-\t/a\n3\t2\topen\t1\tc\t-\t-\t-\t-\t/b\n`), 'gap.tsv');
  t.match(gap.notes!.join(), /2 events missing/);
  const nothing = parseKmodEvents(Buffer.from(`${HEADER}0\t1\tfault\t1\tc\t7:0\t-\t0\t4096\t-\n`), 'x.tsv');
  t.match(nothing.notes!.join(), /neither a path nor an inode/);
  t.equal(nothing.events.length, 0);
  // a file that is mostly not a bootprof log is still refused
  const junk = Buffer.from(HEADER + 'junk\n'.repeat(500));
  t.throws(() => parseKmodEvents(junk, 'junk.tsv'), { name: 'FormatError', message: /500 bad rows and 0 good ones|101 bad rows and 0 good ones/ });
});

t.test('u64 extremes: huge values are kept, never a reason to drop the capture', async (t) => {
  const U64_MAX = '18446744073709551615';
  const text = [
    `${HEADER}0\t9007199254740993\topen\t1\tc\t-\t-\t-\t-\t/after-104-days`,
    `1\t${U64_MAX}\tread\t1\tc\t7:0\t${U64_MAX}\t100000000000000000\t${U64_MAX}\t/usr/huge`,
    `9007199254740993\t1\tsqread\t1\tc\t7:0\t-\t${U64_MAX}\t0\t-`,
    `${U64_MAX}\t2\topen\t1\tc\t-\t-\t-\t-\t/last`,
    '',
  ].join('\n');
  const trace = parseKmodEvents(Buffer.from(text), 'u64.tsv');
  t.equal(trace.events.length, 4, 'every row');
  const [first, read, sq] = trace.events as [FileEvent, FileEvent, BlockEvent];
  t.equal(first.timeNs, 9007199254740992, 'time_ns past 2^53 kept (nearest double)');
  t.same([read.offset, read.length, read.ino, read.timeNs], [1e17, 2 ** 64, 2 ** 64, 2 ** 64]);
  t.equal(sq.offset, 2 ** 64);
  t.match(trace.notes!.join(), /^\d+ events missing \(gaps in seq\)/, 'the gaps between the huge seqs are counted');
  t.notMatch(trace.notes!.join(), /row skipped/);
  // what `bootprof sort` does with it: the mapper clamps ranges to the file
  const bad = parseKmodEvents(Buffer.from(`${HEADER}0\t1\topen\t1\tc\t-\t-\t-\t-\t/a\n1\t${U64_MAX}0\topen\t1\tc\t-\t-\t-\t-\t/b\n`), 'big.tsv');
  t.equal(bad.events.length, 1, 'a value past u64 is a bad row, skipped');
  t.match(bad.notes!.join(), /big\.tsv at byte \d+: line 3: bad time_ns/);
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

t.test('`bootprof sort` keeps the good rows of a capture and names the bad one', async (t) => {
  const dir = t.testdir({
    'events.tsv': `${HEADER}0\t1\topen\t1\tc\t-\t-\t-\t-\t/usr/bin/a\n1\tbogus\topen\t1\tc\t-\t-\t-\t-\t/usr/bin/b\n2\t3\topen\t1\tc\t-\t-\t-\t-\t/usr/bin/c\n`,
  });
  const res = runCli(['sort', '--order', 'first-access', `${dir}/events.tsv`]);
  t.equal(res.status, 0, res.stderr);
  t.match(res.stdout, /usr\/bin\/a[\s\S]*usr\/bin\/c/);
  t.notMatch(res.stdout, /usr\/bin\/b/);
  t.match(res.stderr, /events\.tsv: row skipped: .*events\.tsv at byte \d+: line 3: bad time_ns "bogus"/);
});
