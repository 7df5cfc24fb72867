import { readFileSync } from 'node:fs';
import t, { type Test } from 'tap';
import { FormatError, InputError } from '../src/errors.js';
import { eventDigestOf } from '../src/trace/event-columns.js';
import { parseKmodEvents } from '../src/trace/kmod-events.js';
import type { Trace } from '../src/trace/types.js';
import { traceFixture } from './helpers/trace-samples.js';

/*
 * The module log's good rows go through a one-pass reader (src/trace/kmod-fast-rows.ts); every
 * other row, and every report, through the row-by-row checks. Both must give the same trace (its
 * events, digest, notes and devices), or the same error, for any input, whether the log comes
 * whole or in chunks cut anywhere.
 */

const HEADER = '#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath';

type Outcome = { error: string } | Record<string, unknown>;

function outcome(parse: () => Trace): Outcome {
  try {
    const trace = parse();
    const digest = eventDigestOf(trace)!;
    return {
      counts: [digest.count, digest.blocks, digest.pathless],
      firsts: digest.pathFirsts(),
      reduced: digest.fileEventsWithoutRepeats(),
      ranges: [...digest.readRangesByPath()],
      events: trace.events,
      notes: trace.notes,
      devices: trace.devices,
    };
  } catch (err) {
    if (err instanceof FormatError || err instanceof InputError) return { error: err.message };
    throw err;
  }
}

let seed = 7;
const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;

/** The bytes in pieces of 1 to 40 bytes (a line is often cut, and so are words of 4 bytes). */
function pieces(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = 1 + rand(40);
    out.push(Buffer.from(bytes.subarray(at, at + n)));
    at += n;
  }
  return out;
}

/** Both paths on `bytes`, whole and in pieces: equal outcomes, or a failed assertion (false). */
function agree(t: Test, bytes: Buffer, what: string): { slow: Outcome; ok: boolean } {
  const slow = outcome(() => parseKmodEvents(bytes, 'f', undefined, { rowByRow: true }));
  const whole = outcome(() => parseKmodEvents(bytes, 'f'));
  const cut = outcome(() => parseKmodEvents(pieces(bytes), 'f', bytes.length));
  const slowText = JSON.stringify(slow);
  if (JSON.stringify(whole) !== slowText) {
    t.same(whole, slow, `${what}, whole: ${JSON.stringify(bytes.toString('latin1'))}`);
    return { slow, ok: false };
  }
  if (JSON.stringify(cut) !== slowText) {
    t.same(cut, slow, `${what}, in pieces: ${JSON.stringify(bytes.toString('latin1'))}`);
    return { slow, ok: false };
  }
  return { slow, ok: true };
}

const NASTY = [
  ' ', '\t', '\r', '\0', '\x01', '\x7f', '\xa0', '\\', '-', '0', '9', 'x', ':', '\n',
  'read', 'fault', 'open', 'exec', 'sqread', 'reads', 'sqrea', '7:0', '12345:1234567', '1:',
  '9007199254740991', '9007199254740992', '9007199254740993', '18446744073709551615', '18446744073709551616',
  '12345678901234567890123',
];

/**
 * One random edit of one line of the window: a byte changed, a piece inserted, a byte deleted, the
 * line cut, repeated (its seq again) or swapped with the next (a seq going back).
 */
function mutate(lines: readonly string[]): string {
  const out = [...lines];
  const i = 1 + rand(out.length - 1); // the header stays
  const line = out[i]!;
  const at = rand(line.length + 1);
  const what = rand(6);
  const piece = NASTY[rand(NASTY.length)]!;
  if (what === 0) out[i] = line.slice(0, at) + piece + line.slice(at + 1);
  else if (what === 1) out[i] = line.slice(0, at) + piece + line.slice(at);
  else if (what === 2) out[i] = line.slice(0, at) + line.slice(at + 1);
  else if (what === 3) out[i] = line.slice(0, at);
  else if (what === 4) out.splice(i, 0, line);
  else if (i + 1 < out.length) [out[i], out[i + 1]] = [out[i + 1]!, line];
  return out.join('\n') + (rand(10) === 0 ? '' : '\n');
}

/** Lines of every kind, with paths of every length up to 40 bytes (words of 4 cut at every place). */
function syntheticLines(): string[] {
  const lines: string[] = [];
  let seq = 0;
  let time = 5_000_000_000;
  const line = (rest: string): void => {
    lines.push(`${seq++}\t${(time += 1 + rand(5000))}\t${rest}`);
  };
  for (let n = 1; n <= 40; n++) {
    const path = `/${'abcdefghij'.repeat(4).slice(0, n - 1)}`;
    line(`open\t${100 + (n % 3)}\tp${n % 3}\t-\t-\t-\t-\t${path}`);
    line(`read\t${100 + (n % 3)}\tp${n % 3}\t0:25\t${n}\t${n * 4096}\t4096\t${path}`);
    // a u64 past 2^53: read row by row, the same path then taken by the fast path
    line(`fault\t101\tp1\t7:0\t18446744073709551615\t0\t4096\t${path}`);
    line(`fault\t101\tp1\t7:0\t${n}\t8192\t${n}\t${path}`);
    line(`sqread\t102\tmount\t7:0\t-\t${n * 512}\t${n}\t-`);
    line(`exec\t103\tsh\t0:25\t${n + 1000}\t-\t-\t${path}`);
    line(`fault\t104\tsh\t7:0\t${n + 1000}\t0\t4096\t-`);
  }
  return lines;
}

t.test('good rows: both paths give the same trace, whole and in pieces', async (t) => {
  const captured = readFileSync(traceFixture('captured/bootprof-events.tsv'));
  t.ok(agree(t, captured, 'the captured log').ok, 'the captured log');
  const escaped = readFileSync(traceFixture('kmod-events.tsv'));
  t.ok(agree(t, escaped, 'escapes in comm and path').ok, 'escapes in comm and path');
  const synthetic = Buffer.from(`${[HEADER, ...syntheticLines()].join('\n')}\n`, 'latin1');
  const { slow, ok } = agree(t, synthetic, 'synthetic lines');
  t.ok(ok, 'every kind, paths of 1 to 40 bytes');
  // the u64 rows and the others name the same 40 paths: one entry each, whichever path read the row
  t.equal((slow as { firsts: unknown[] }).firsts.length, 40, 'each path interned once');
});

t.test('mutated rows: both paths skip, report or refuse alike', async (t) => {
  const sources = [
    readFileSync(traceFixture('captured/bootprof-events.tsv'), 'latin1').split('\n').slice(1).filter((l) => l !== ''),
    syntheticLines(),
  ];
  let cases = 0;
  let skipped = 0;
  let refused = 0;
  for (const lines of sources) {
    for (let k = 0; k < 1500; k++) {
      const from = rand(Math.max(1, lines.length - 10));
      const bytes = Buffer.from(mutate([HEADER, ...lines.slice(from, from + 10)]), 'latin1');
      const { slow, ok } = agree(t, bytes, 'mutated');
      if (!ok) return;
      cases++;
      if ('error' in slow) refused++;
      else if ((slow.notes as string[]).some((n) => n.startsWith('row skipped'))) skipped++;
    }
  }
  t.ok(skipped > 300 && skipped < cases, `${cases} mutated logs agree (${skipped} with skipped rows, ${refused} refused)`);
});
