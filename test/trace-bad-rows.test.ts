import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parseBlkparse } from '../src/trace/blkparse.js';
import { parseKmodEvents } from '../src/trace/kmod-events.js';
import { parseQemuLog } from '../src/trace/qemu.js';
import { readTrace } from '../src/trace/read.js';
import type { Trace } from '../src/trace/types.js';
import { runCli } from './helpers/cli.js';
import { traceFixture as fixture } from './helpers/trace-samples.js';

// Issue 11: one bad row (a NUL byte, binary garbage, a line cut short) is named with its file,
// line and byte offset and skipped; it is never a reason to discard the whole capture.

/** The line start of the first line containing byte `at`, and that line's 1-based number. */
function lineOf(bytes: Buffer, at: number): { start: number; line: number } {
  const start = bytes.lastIndexOf(0x0a, at - 1) + 1;
  let line = 1;
  for (let i = bytes.indexOf(0x0a); i !== -1 && i < start; i = bytes.indexOf(0x0a, i + 1)) line++;
  return { start, line };
}

/** `bytes` with `insert` put in at the start of the line holding byte `at`. */
function insertLineAt(bytes: Buffer, at: number, insert: Buffer): { bytes: Buffer; start: number; line: number } {
  const { start, line } = lineOf(bytes, at);
  return { bytes: Buffer.concat([bytes.subarray(0, start), insert, bytes.subarray(start)]), start, line };
}

const skippedNote = (trace: Trace): string => (trace.notes ?? []).filter((n) => /row skipped|bad rows/.test(n)).join('\n');

/** Binary garbage without a newline, NULs included. */
function garbage(length: number): Buffer {
  const b = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    const v = (i * 7919 + 13) & 0xff;
    b[i] = v === 0x0a ? 0 : v;
  }
  return b;
}

t.test('module log: a NUL byte drops its row only', async (t) => {
  const bytes = readFileSync(fixture('captured/bootprof-events.tsv'));
  const all = parseKmodEvents(bytes, 'k.tsv').events.length;
  const nul = Buffer.from(bytes);
  nul[4000] = 0;
  const { line } = lineOf(nul, 4000);
  const trace = parseKmodEvents(nul, 'n.tsv');
  t.equal(trace.events.length, all - 1);
  t.match(skippedNote(trace), new RegExp(`row skipped: n\\.tsv at byte 4000: line ${line}: NUL byte`));

  // the same read from a file, streamed in chunks, and cut into chunks right at the NUL
  const dir = t.testdir();
  writeFileSync(join(dir, 'n.tsv'), nul);
  const streamed = await readTrace(join(dir, 'n.tsv'));
  t.equal(streamed.events.length, all - 1);
  t.match(skippedNote(streamed), /at byte 4000: line \d+: NUL byte/);
  for (const cut of [3999, 4000, 4001]) {
    const chunked = parseKmodEvents([nul.subarray(0, cut), nul.subarray(cut)], 'c.tsv');
    t.equal(chunked.events.length, all - 1, `chunks cut at ${cut}`);
    t.match(skippedNote(chunked), /at byte 4000: line \d+: NUL byte/);
  }
  // two NULs in two rows: two rows skipped
  nul[6000] = 0;
  t.equal(parseKmodEvents(nul, 'n2.tsv').events.length, all - 2);
});

t.test('module log: binary garbage longer than a line is one skipped row', async (t) => {
  const bytes = readFileSync(fixture('captured/bootprof-events.tsv'));
  const all = parseKmodEvents(bytes, 'k.tsv').events.length;
  // 100 KiB with no newline (a crash leaves runs of zeros in a log file), then the rest of the log
  const junk = Buffer.concat([garbage(100 * 1024), Buffer.from('\n')]);
  const { bytes: bad, start, line } = insertLineAt(bytes, 5000, junk);
  const trace = parseKmodEvents(bad, 'g.tsv');
  t.equal(trace.events.length, all);
  t.match(skippedNote(trace), new RegExp(`g\\.tsv at byte ${start}: line ${line}: line longer than \\d+ bytes`));
  // streamed: the garbage spans chunk boundaries and is never held whole
  const chunks: Buffer[] = [];
  for (let at = 0; at < bad.length; at += 4096) chunks.push(bad.subarray(at, at + 4096));
  const chunked = parseKmodEvents(chunks, 'g.tsv');
  t.equal(chunked.events.length, all);
  t.match(skippedNote(chunked), new RegExp(`g\\.tsv at byte ${start}: line ${line}: line longer than`));
  t.equal(chunked.events.at(-1)!.timeNs, trace.events.at(-1)!.timeNs, 'the rows after it are read');
  // the log ends in such a run of garbage
  const tail = parseKmodEvents(Buffer.concat([bytes, garbage(100 * 1024)]), 't.tsv');
  t.equal(tail.events.length, all);
  t.match(skippedNote(tail), /line longer than/);
});

t.test('module log: a few lines of binary garbage among the rows', async (t) => {
  const bytes = readFileSync(fixture('captured/bootprof-events.tsv'));
  const all = parseKmodEvents(bytes, 'k.tsv').events.length;
  const lines = Buffer.from(Array.from({ length: 2048 }, (_, i) => ((i * 131 + 7) & 0xff)));
  const { bytes: bad } = insertLineAt(bytes, 8000, Buffer.concat([lines, Buffer.from('\n')]));
  const trace = parseKmodEvents(bad, 'm.tsv');
  t.equal(trace.events.length, all, 'every good row kept');
  t.ok(skippedNote(trace).length > 0, 'the garbage rows are named');
});

t.test('qemu log: a bad line is named and skipped', async (t) => {
  const bytes = readFileSync(fixture('captured/qemu-trace.log'));
  const all = parseQemuLog(bytes, 'q.log');
  const at = bytes.indexOf('blk_co_preadv', 3000) + 30;
  const nul = Buffer.from(bytes);
  nul[at] = 0;
  const { line } = lineOf(nul, at);
  const trace = parseQemuLog(nul, 'n.log');
  t.equal(trace.events.length, all.events.length - 1);
  t.match(skippedNote(trace), new RegExp(`n\\.log at byte ${at}: line ${line}: binary data`));

  const { bytes: long, start } = insertLineAt(bytes, 3000, Buffer.concat([garbage(100 * 1024), Buffer.from('\n')]));
  const longTrace = parseQemuLog(long, 'l.log');
  t.equal(longTrace.events.length, all.events.length);
  t.match(skippedNote(longTrace), new RegExp(`l\\.log at byte ${start}: line \\d+: line longer than`));

  // cut inside the last read: the reads before it are kept
  const lineStart = bytes.indexOf('blk_co_preadv', bytes.length - 300);
  const cut = parseQemuLog(bytes.subarray(0, lineStart + 40), 'cut.log');
  t.ok(cut.events.length > 0);
  t.match(skippedNote(cut), new RegExp(`cut\\.log at byte ${lineStart}: line \\d+ is cut short`));
});

t.test('blkparse output: a bad line is named and skipped', async (t) => {
  const bytes = readFileSync(fixture('captured/blkparse-loop0.txt'));
  const all = parseBlkparse(bytes, 'b.txt');
  const at = bytes.indexOf('  D  RS ', 3000) + 10;
  const nul = Buffer.from(bytes);
  nul[at] = 0;
  const { line } = lineOf(nul, at);
  const trace = parseBlkparse(nul, 'n.txt');
  t.equal(trace.events.length, all.events.length - 1);
  t.match(skippedNote(trace), new RegExp(`n\\.txt at byte ${at}: line ${line}: binary data`));

  const { bytes: junk, start } = insertLineAt(bytes, 3000, Buffer.from('this is not blkparse\n'));
  const junkTrace = parseBlkparse(junk, 'j.txt');
  t.equal(junkTrace.events.length, all.events.length);
  t.match(skippedNote(junkTrace), new RegExp(`j\\.txt at byte ${start}: line \\d+ is not a blkparse event`));

  const long = insertLineAt(bytes, 3000, Buffer.concat([garbage(100 * 1024), Buffer.from('\n')]));
  t.equal(parseBlkparse(long.bytes, 'l.txt').events.length, all.events.length);
});

t.test('mostly garbage is still refused', async (t) => {
  const header = readFileSync(fixture('captured/qemu-trace.log')).subarray(0, 200);
  const first = header.subarray(0, header.indexOf(0x0a) + 1);
  const junk = Buffer.concat([first, Buffer.from('blk_co_preadv junk\n'.repeat(300))]);
  t.throws(() => parseQemuLog(junk, 'junk.log'), { name: 'FormatError', message: /junk\.log at byte \d+: 10\d bad rows and \d+ good ones/ });
});

t.test('every command that reads traces keeps the capture and names the skipped row', async (t) => {
  const bytes = readFileSync(fixture('captured/bootprof-events.tsv'));
  const nul = Buffer.from(bytes);
  nul[4000] = 0;
  const dir = t.testdir();
  const trace = join(dir, 'n.tsv');
  writeFileSync(trace, nul);
  const res = runCli(['sort', trace]);
  t.equal(res.status, 0, res.stderr);
  t.match(res.stdout, /usr\/bin\/bash/);
  t.match(res.stderr, /n\.tsv at byte 4000: line \d+: NUL byte/);
  const image = fixture('captured-layout.json');
  for (const args of [['readahead'], ['tune'], ['simulate'], ['report', '-o', join(dir, 'r.html')], ['map', '-o', join(dir, 'p.tsv')]]) {
    const r = runCli([...args, '--image', image, trace]);
    t.not(r.status, 70, `${args[0]}: no internal error`);
    t.match(r.stderr, /n\.tsv: row skipped: .*n\.tsv at byte 4000: line \d+: NUL byte/, `${args[0]} names the skipped row`);
  }
});
