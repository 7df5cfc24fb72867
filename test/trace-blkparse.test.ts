import { readFileSync } from 'node:fs';
import t from 'tap';
import { parseBlkparse } from '../src/trace/blkparse.js';
import { readTrace } from '../src/trace/read.js';
import { parseTrace } from '../src/trace/parse-whole.js';
import type { BlockEvent, Trace } from '../src/trace/types.js';
import { traceFixture as fixture } from './helpers/trace-samples.js';

const blocks = (events: readonly unknown[]): BlockEvent[] => events as BlockEvent[];

/** Reads issued to the driver, counted straight from the text with a different method than the parser. */
function dReadsOf(text: string): { device: string; sector: number; count: number }[] {
  const out: { device: string; sector: number; count: number }[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[5] !== 'D' || !/^F?R/.test(f[6]!) || f[8] !== '+') continue;
    if (Number(f[9]) === 0) continue;
    out.push({ device: f[0]!, sector: Number(f[7]), count: Number(f[9]) });
  }
  return out;
}

t.test('captured blkparse of sr0 and loop0', async (t) => {
  for (const name of ['captured/blkparse-sr0.txt', 'captured/blkparse-loop0.txt', 'captured/smp2/blkparse-sr0.txt']) {
    const path = fixture(name);
    const trace = await readTrace(path);
    t.equal(trace.format, 'blkparse', name);
    const expected = dReadsOf(readFileSync(path, 'latin1'));
    t.ok(expected.length > 20, `${name}: ${expected.length} D reads`);
    t.same(
      blocks(trace.events).map((e) => [e.device, e.offset, e.length]),
      expected.map((r) => [r.device, r.sector * 512, r.count * 512]),
      `${name}: every D read, in 512-byte sectors, and nothing else`,
    );
    const kinds = new Set(trace.devices!.map((d) => d.kind));
    t.same([...kinds], [name.includes('loop0') ? 'loop' : 'cdrom']);
  }
  const sr0 = await readTrace(fixture('captured/blkparse-sr0.txt'));
  t.match(sr0.notes!.join(' '), /packet-command reads/, 'the CD\'s packet commands (TOC reads) are skipped');
  const ev = blocks(sr0.events);
  for (let i = 1; i < ev.length; i++) if (ev[i]!.timeNs! < ev[i - 1]!.timeNs!) t.fail('time goes back');
});

t.test('hand-made sample: actions, RWBS, summary', async (t) => {
  const trace = await readTrace(fixture('blkparse.txt'));
  t.same(
    blocks(trace.events).map((e) => [e.device, e.offset / 512, e.length / 512, e.timeNs]),
    [
      ['11,0', 3388, 8, 21417],
      ['7,0', 3256, 2, 11810],
      ['7,0', 3256, 4, 529112],
      ['11,0', 3396, 32, 2002011],
      ['7,0', 3174, 12, 3100481],
      ['11,0', 64, 4, 4313005],
    ],
    'D reads only: no Q/G/I/C, no write, no flush, no message',
  );
});

t.test('a truncated or garbled line is skipped and named by its byte (issue 11)', async (t) => {
  const bytes = readFileSync(fixture('captured/blkparse-loop0.txt'));
  const notes = (trace: Trace): string => trace.notes!.join('\n');
  const line = bytes.indexOf('  D  RS ', 3000);
  const lineStart = bytes.lastIndexOf(0x0a, line) + 1;
  t.match(notes(parseTrace(bytes.subarray(0, line + 12), 'cut.txt')), new RegExp(`row skipped: cut\\.txt at byte ${lineStart}: line \\d+`));

  const garbled = Buffer.from(bytes);
  garbled.write('X', line + 10, 'latin1');
  t.match(notes(parseTrace(garbled, 'g.txt')), /row skipped: g\.txt at byte \d+: line \d+/);

  const junk = Buffer.concat([bytes.subarray(0, lineStart), Buffer.from('this is not blkparse\n'), bytes.subarray(lineStart)]);
  t.match(notes(parseBlkparse(junk, 'junk.txt')), new RegExp(`junk\\.txt at byte ${lineStart}: line \\d+ is not a blkparse event`));

  const nul = Buffer.from(bytes);
  nul[200] = 0;
  t.match(notes(parseBlkparse(nul, 'nul.txt')), /nul\.txt at byte 200: /);
});

// How fast: npm run bench:parse (a test asserts behaviour, never time).
t.test('a million lines parse, every one', async (t) => {
  const lines: string[] = [];
  for (let i = 0; i < 1_000_000; i++) {
    lines.push(`  7,0    0 ${String(i + 1).padStart(8)} ${(i / 1000).toFixed(9).padStart(14)}   211  D  RS ${(i * 8) % 9999999} + 8 [md5sum]`);
  }
  const bytes = Buffer.from(`${lines.join('\n')}\n`);
  const result = parseBlkparse(bytes, 'big.txt');
  t.equal(result.events.length, 1_000_000);
  t.match(result.events.at(-1), { kind: 'block', offset: (999_999 * 8 % 9999999) * 512, length: 8 * 512 }, 'the last line, whole');
});
