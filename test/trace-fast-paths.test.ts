import { readFileSync } from 'node:fs';
import t from 'tap';
import { FormatError } from '../src/errors.js';
import { parseBlkparse } from '../src/trace/blkparse.js';
import { parseKmodEvents } from '../src/trace/kmod-events.js';
import { parseQemuLog } from '../src/trace/qemu.js';
import { parseCount } from '../src/trace/text-lines.js';
import { ByteStrings, countAt } from '../src/trace/byte-fields.js';
import { scanTsvRecords } from '../src/trace/tsv-scan.js';
import { RecordProblem } from '../src/trace/tsv-records.js';
import type { Trace } from '../src/trace/types.js';
import { traceFixture } from './helpers/trace-samples.js';

/*
 * The qemu and blkparse parsers read their common line straight from the bytes and hand every
 * other line to the text path. Both paths must give the same trace, or the same error, for any
 * input: here the captured fixtures and thousands of mutations of their lines.
 */

type Outcome = { trace: Trace } | { error: string };

function outcome(fn: () => Trace): Outcome {
  try {
    return { trace: fn() };
  } catch (err) {
    if (err instanceof FormatError) return { error: err.message };
    throw err;
  }
}

let seed = 42;
const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
const NASTY = [' ', '\t', '\r', '\0', '\x7f', '\xa0', '0', '9', 'x', '(', ')', '[', ']', '+', '.', ':', '@', ',', 'R', 'D', 'F', 'W', '\n', '12345678901234567890'];

/** One random edit of one random line: a byte changed, inserted or deleted, or the line cut. */
function mutate(lines: readonly string[]): string {
  const out = [...lines];
  const i = rand(out.length);
  const line = out[i]!;
  const at = rand(line.length + 1);
  const what = rand(4);
  const piece = NASTY[rand(NASTY.length)]!;
  if (what === 0) out[i] = line.slice(0, at) + piece + line.slice(at + 1);
  else if (what === 1) out[i] = line.slice(0, at) + piece + line.slice(at);
  else if (what === 2) out[i] = line.slice(0, at) + line.slice(at + 1);
  else out[i] = line.slice(0, at);
  return out.join('\n') + (rand(8) === 0 ? '' : '\n');
}

const TOKENS = ['', '0', '7', '999999', '1000000', '0000001', '1234567', '9007199254740991', '9007199254740992', '12345678901234567', '00000000000000000001', '0x', '0xg',
  '0x12345678901234567', '(nil)', 'nil', 'x', '-1', '1e3', 'R', 'FR', 'D', 'W', 'N', 'RS', 'dma', 'blk', 'bs'];

/** One random word of one random line (a run of letters, digits, '_', '(' or ')') replaced by another: numbers near every limit. */
function mutateWord(lines: readonly string[]): string {
  const out = [...lines];
  const i = rand(out.length);
  const words = [...out[i]!.matchAll(/[0-9A-Za-z_()]+/g)];
  if (words.length > 0) {
    const w = words[rand(words.length)]!;
    out[i] = out[i]!.slice(0, w.index) + TOKENS[rand(TOKENS.length)]! + out[i]!.slice(w.index! + w[0].length);
  }
  return out.join('\n') + '\n';
}

const samples: Array<[string, (b: Buffer, s: string, o: { textOnly?: boolean }) => Trace, string[]]> = [
  ['qemu', parseQemuLog, ['qemu-cdrom.log', 'qemu-timestamps.log', 'captured/qemu-trace-timestamps.log']],
  ['blkparse', parseBlkparse, ['blkparse.txt', 'captured/blkparse-sr0.txt', 'captured/blkparse-loop0.txt']],
];

for (const [name, parse, fixtures] of samples) {
  t.test(`${name}: the byte path and the text path agree`, async (t) => {
    let errors = 0;
    let cases = 0;
    for (const fixture of fixtures) {
      const text = readFileSync(traceFixture(fixture), 'latin1');
      const whole = Buffer.from(text, 'latin1');
      t.same(outcome(() => parse(whole, 'f', {})), outcome(() => parse(whole, 'f', { textOnly: true })), `${fixture} as captured`);
      // a window of lines keeps each parse small; the mutations hit the lines of the window
      const lines = text.split('\n').filter((l) => l !== '');
      for (let k = 0; k < 700; k++) {
        const from = rand(Math.max(1, lines.length - 12));
        const bytes = Buffer.from(mutate(lines.slice(from, from + 12)), 'latin1');
        const fast = outcome(() => parse(bytes, 'f', {}));
        const slow = outcome(() => parse(bytes, 'f', { textOnly: true }));
        cases++;
        // a bad line is skipped and named in the notes (issue 11); a mostly bad input is an error
        if ('error' in slow || slow.trace.notes!.some((n) => n.startsWith('row skipped'))) errors++;
        if (JSON.stringify(fast) !== JSON.stringify(slow)) {
          t.same(fast, slow, `mutated input ${JSON.stringify(bytes.toString('latin1'))}`);
          return;
        }
      }
    }
    t.ok(errors > 50 && errors < cases, `${cases} mutated inputs agree (${errors} of them errors or skipped rows on both paths)`);
  });
}

t.test('countAt reads the same values as parseCount', async (t) => {
  const texts = ['', '0', '7', '007', '12a', '-1', ' 1', '9007199254740991', '9007199254740992', '9999999999999999', '12345678901234567', '4096'];
  for (const text of texts) {
    const bytes = Buffer.from(`x${text}y`, 'latin1');
    t.equal(countAt(bytes, 1, 1 + text.length), parseCount(text), JSON.stringify(text));
  }
});

t.test('ByteStrings gives one string per distinct value, escapes undone', async (t) => {
  const strings = new ByteStrings();
  const bytes = Buffer.from('a\\tb|/usr/lib|/usr/lib|/usr/lix|é', 'utf8');
  const parts: string[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x7c) {
      parts.push(strings.get(bytes, start, i));
      start = i + 1;
    }
  }
  t.same(parts, ['a\tb', '/usr/lib', '/usr/lib', '/usr/lix', 'é']);
  // enough distinct values to grow the table several times
  const many = Buffer.from(Array.from({ length: 5000 }, (_, i) => `/f${i}`).join('|'));
  const got = new Set<string>();
  start = 0;
  for (let i = 0; i <= many.length; i++) {
    if (i === many.length || many[i] === 0x7c) {
      got.add(strings.get(many, start, i));
      start = i + 1;
    }
  }
  t.equal(got.size, 5000);
  t.equal(strings.get(Buffer.from('/f4321'), 0, 6), '/f4321');
});

t.test('scanTsvRecords: onProblem reports a bad record and the scan goes on', async (t) => {
  const text = 'H\na\tb\n\nc\td\te\nf\tg\nh\ti\n';
  const seen: string[] = [];
  const problems: string[] = [];
  scanTsvRecords(Buffer.from(text), 's.tsv', 2, (row) => {
    const first = row.bytes.toString('latin1', row.starts[0]!, row.ends[0]!);
    if (first === 'f') throw new RecordProblem('f is bad');
    seen.push(first);
  }, { onProblem: (e) => problems.push(e.message) });
  t.same(seen, ['a', 'h']);
  t.same(problems, [
    's.tsv at byte 6: line 3: empty line',
    's.tsv at byte 7: line 4: 3 fields, expected 2',
    's.tsv at byte 13: line 5: f is bad',
  ]);
  t.throws(() => scanTsvRecords(Buffer.from(text), 's.tsv', 2, () => {}), /s\.tsv at byte 6: line 3: empty line/, 'without onProblem the first one is thrown');
});

t.test('module events: the scanner keeps csv-parse\'s checks (a bad row is skipped and named)', async (t) => {
  const good = readFileSync(traceFixture('kmod-events.tsv'));
  const trace = parseKmodEvents(good, 'k.tsv');
  t.ok(trace.events.length > 0);
  const lines = good.toString('latin1').split('\n');
  // every event line cut at every tab: wrong field counts, each named by its line and offset
  let checked = 0;
  for (let i = 1; i < Math.min(lines.length - 1, 20); i++) {
    const line = lines[i]!;
    const tab = line.indexOf('\t');
    const cut = [...lines.slice(0, i), line.slice(0, tab) + line.slice(tab + 1), ...lines.slice(i + 1)].join('\n');
    const offset = lines.slice(0, i).join('\n').length + 1;
    const skipped = parseKmodEvents(Buffer.from(cut, 'latin1'), 'k.tsv');
    t.equal(skipped.events.length, trace.events.length - 1, `line ${i + 1} cut: that row is left out`);
    t.ok(skipped.notes?.includes(`row skipped: k.tsv at byte ${offset}: line ${i + 1}: 9 fields, expected 10`), `line ${i + 1} cut: named by line and offset`);
    checked++;
  }
  t.ok(checked > 3);
});

t.test('module log in chunks: the same trace, or the same error, wherever the chunks are cut', async (t) => {
  const good = readFileSync(traceFixture('kmod-events.tsv'));
  const text = good.toString('latin1');
  const lines = text.split('\n');
  const bad = [...lines.slice(0, 5), lines[5]!.replace('\t', ''), ...lines.slice(6)].join('\n');
  const cut = text.slice(0, -1);
  const noHeaderEnd = lines[0]!;
  for (const [name, input] of [['good', text], ['bad line 6', bad], ['cut short', cut], ['header only, unterminated', noHeaderEnd]] as const) {
    const bytes = Buffer.from(input, 'latin1');
    const whole = outcome(() => parseKmodEvents(bytes, 'k.tsv'));
    for (let k = 0; k < 60; k++) {
      const cuts = [0, ...Array.from({ length: 1 + rand(6) }, () => rand(bytes.length + 1)), bytes.length].sort((a, b) => a - b);
      const chunks = cuts.slice(1).map((end, i) => bytes.subarray(cuts[i]!, end));
      const got = outcome(() => parseKmodEvents(chunks, 'k.tsv'));
      if (JSON.stringify(got) !== JSON.stringify(whole)) {
        t.same(got, whole, `${name} cut at ${cuts.join(',')}`);
        return;
      }
    }
    t.pass(`${name}: 60 ways of cutting it agree`);
  }
});

t.test('readTrace streams a big module log: same events, errors at file offsets', async (t) => {
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { readTrace } = await import('../src/trace/read.js');
  const dir = mkdtempSync(join(tmpdir(), 'bootprof-chunks-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const rows = ['#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath'];
  for (let i = 0; i < 120_000; i++) rows.push(`${i}\t${1e9 + i}\tfault\t7\tsh\t7:0\t${i % 900}\t4096\t4096\t/usr/lib/some/dir/file-${i % 900}.so`);
  const text = `${rows.join('\n')}\n`;
  t.ok(text.length > 2 * 4 * 1024 * 1024, 'more than two 4 MiB chunks');
  const path = join(dir, 'events.tsv');
  writeFileSync(path, text);
  const streamed = await readTrace(path);
  const whole = parseKmodEvents(Buffer.from(text), path);
  t.equal(streamed.events.length, 120_000);
  t.same(streamed, whole, 'the same trace as the whole-buffer parse');
  // a bad record deep in the file (past the first chunk): named by its line and file offset
  const badLine = 100_000;
  const badRows = [...rows];
  badRows[badLine] = badRows[badLine]!.replace('\tfault\t', '\tfaulty\t');
  writeFileSync(path, `${badRows.join('\n')}\n`);
  const offset = badRows.slice(0, badLine).join('\n').length + 1;
  const oneBad = await readTrace(path);
  t.equal(oneBad.events.length, 120_000 - 1, 'the bad row is left out, the rest kept');
  t.ok(oneBad.notes?.includes(`row skipped: ${path} at byte ${offset}: line ${badLine + 1}: unknown event "faulty"`), 'named by its line and file offset');
});

t.test('blkparse: both paths count the same good lines (packet commands, requests with a cdb) when most lines are bad', async (t) => {
  const line = (seq: number, rest: string, action = 'D', rwbs = 'R'): string =>
    `  7,0    0 ${String(seq).padStart(8)} ${(seq / 1000).toFixed(9).padStart(14)}   211  ${action.padEnd(2)} ${rwbs.padStart(3)} ${rest}`;
  const good: string[] = [];
  for (let i = 0; i < 60; i++) {
    good.push(line(3 * i + 1, `${i * 8} + 8 [md5sum]`)); // the fast path's line
    good.push(line(3 * i + 2, '8 (25 00 00 00 00 00 00 00 00 00 00 00) [cdrom_id]')); // a packet command: no sector
    good.push(line(3 * i + 3, `${i * 8} + 8 (28 00) [md5sum]`)); // a request with its cdb: the text path's
  }
  for (const bad of [170, 200]) {
    const lines = [...good, ...Array.from({ length: bad }, (_, i) => `garbage ${i}`)];
    const bytes = Buffer.from(`${lines.join('\n')}\n`, 'latin1');
    const fast = outcome(() => parseBlkparse(bytes, 'f', {}));
    const slow = outcome(() => parseBlkparse(bytes, 'f', { textOnly: true }));
    t.same(fast, slow, `${good.length} good lines, then ${bad} bad ones`);
    if (bad === 200) t.match(JSON.stringify(fast), /181 bad rows and 180 good ones/, 'refused, each good line counted once');
    else t.ok('trace' in fast, 'mostly good: read, the bad lines named');
  }
});

t.test('blkparse: the one-pass reader and the text path agree on a long varied output, whole and mutated', async (t) => {
  const devices = ['7,0', '11,0', '8,16', '259,3'];
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) {
    const dev = devices[(i >> 3) % devices.length]!;
    const kinds = [['D', 'RS'], ['D', 'FR'], ['Q', 'RS'], ['D', 'W'], ['C', 'RA'], ['D', 'RM'], ['D', 'R'], ['m', 'N']];
    const [action, rwbs] = kinds[(i * 7) % kinds.length]!;
    const rest = action === 'm' ? 'a message' : `${(i * 977) % 100000} + ${i % 13 === 0 ? 0 : 1 + (i % 64)} [comm ${i % 3}]`;
    lines.push(`${dev.padStart(7)} ${String(i % 2).padStart(2)} ${String(i + 1).padStart(8)} ${(i * 0.0013).toFixed(9).padStart(14)} ${String(100 + (i % 9)).padStart(5)}  ${action!.padEnd(2)} ${rwbs!.padStart(3)} ${rest}`);
  }
  const whole = Buffer.from(`${lines.join('\n')}\nCPU0 (7,0):\n Reads Queued: 1, 4KiB\n`, 'latin1');
  const fast = outcome(() => parseBlkparse(whole, 'f', {}));
  t.same(fast, outcome(() => parseBlkparse(whole, 'f', { textOnly: true })), 'as generated');
  t.ok('trace' in fast && fast.trace.events.length > 100 && fast.trace.devices!.length === devices.length, 'reads of every device');
  let cases = 0;
  for (let k = 0; k < 600; k++) {
    const from = rand(lines.length - 60);
    const window = lines.slice(from, from + 60);
    const bytes = Buffer.from(k % 2 === 0 ? mutate(window) : mutateWord(window), 'latin1');
    const a = outcome(() => parseBlkparse(bytes, 'f', {}));
    const b = outcome(() => parseBlkparse(bytes, 'f', { textOnly: true }));
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      t.same(a, b, `mutated input ${JSON.stringify(bytes.toString('latin1'))}`);
      return;
    }
    cases++;
  }
  t.equal(cases, 600, '600 mutated windows of 60 lines agree (a byte or a word changed)');
});

t.test('qemu: the one-pass reader and the text path agree on a long varied log, whole and mutated', async (t) => {
  const lines: string[] = [];
  for (let i = 0; i < 400; i++) {
    const stamp = i % 5 === 4 ? '' : `${1000 + (i % 3)}@${1795632211 + (i >> 6)}.${String((i * 9973) % 1_000_000).padStart(6, '0')}:`;
    const blk = ['0x55d5c7b0e8a0', '0x55D5C7B0E8A1', '(nil)', '0x1'][(i >> 4) % 4]!;
    const kind = i % 11;
    if (kind === 3) lines.push(`${stamp}ide_atapi_cmd_read IDEState: 0x55d5c7c00000; read dma: LBA=${i * 4} nb_sectors=4`);
    else if (kind === 7) lines.push(`${stamp}blk_co_pwritev blk ${blk} bs 0x55d5c7b15000 offset ${i * 512} bytes 512 flags 0x0`);
    else lines.push(`${stamp}blk_co_preadv blk ${blk} bs 0x55d5c7b15000 offset ${(i * 7919) % 300000 * 2048} bytes ${i % 13 === 0 ? 512 : 4096} flags 0x${i % 2}`);
  }
  const whole = Buffer.from(`${lines.join('\n')}\n`, 'latin1');
  const fast = outcome(() => parseQemuLog(whole, 'q', {}));
  t.same(fast, outcome(() => parseQemuLog(whole, 'q', { textOnly: true })), 'as generated');
  t.ok('trace' in fast && fast.trace.events.length > 200 && fast.trace.devices!.length >= 4, 'reads of every blk pointer');
  let cases = 0;
  for (let k = 0; k < 600; k++) {
    const from = rand(lines.length - 60);
    const window = lines.slice(from, from + 60);
    const bytes = Buffer.from(k % 2 === 0 ? mutate(window) : mutateWord(window), 'latin1');
    const a = outcome(() => parseQemuLog(bytes, 'q', {}));
    const b = outcome(() => parseQemuLog(bytes, 'q', { textOnly: true }));
    if (JSON.stringify(a) !== JSON.stringify(b)) {
      t.same(a, b, `mutated input ${JSON.stringify(bytes.toString('latin1'))}`);
      return;
    }
    cases++;
  }
  t.equal(cases, 600, '600 mutated windows of 60 lines agree (a byte or a word changed)');
});

t.test('blkparse and qemu: every word of their common lines replaced by each awkward token, both paths agree', async (t) => {
  const cases: Array<[string, (b: Buffer, s: string, o: { textOnly?: boolean }) => Trace, string[]]> = [
    ['blkparse', parseBlkparse, ['  7,0    0        5     0.000529112   211  D  RS 3256 + 4 [md5sum]', ' 11,0    1       12     1.000000000   180  D  FR 64 + 0 [kworker/u2:1]']],
    ['qemu', parseQemuLog, ['12345@1795632211.000997:blk_co_preadv blk 0x55d5c7b0e8a0 bs (nil) offset 4096 bytes 512 flags 0x0', 'blk_co_preadv blk (nil) bs 0x1 offset 0 bytes 4096 flags 0xA']],
  ];
  for (const [name, parse, samples] of cases) {
    let checked = 0;
    for (const sample of samples) {
      for (const w of sample.matchAll(/[0-9A-Za-z_()]+/g)) {
        for (const token of TOKENS) {
          const line = sample.slice(0, w.index) + token + sample.slice(w.index! + w[0].length);
          const bytes = Buffer.from(`${samples[0]}\n${line}\n${samples[1]}\n`, 'latin1');
          const a = outcome(() => parse(bytes, 'f', {}));
          const b = outcome(() => parse(bytes, 'f', { textOnly: true }));
          if (JSON.stringify(a) !== JSON.stringify(b)) {
            t.same(a, b, `${name}: ${JSON.stringify(line)}`);
            return;
          }
          checked++;
        }
      }
    }
    t.ok(checked > 500, `${name}: ${checked} lines agree`);
  }
});
