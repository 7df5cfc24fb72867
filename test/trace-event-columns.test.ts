// The module log held as columns (issue 12): the events built from them are the parser's events,
// and the repeats left out for the optimizer change no boot it builds.
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { profileFromTraces } from '../src/profile/load.js';
import { readTrace } from '../src/trace/read.js';
import { bootsFromTraces } from '../src/optimize/boots.js';
import type { Universe } from '../src/optimize/universe.js';
import { mergeRanges } from '../src/map/map-trace.js';
import { eventDigestOf, eventCount } from '../src/trace/event-columns.js';
import { parseKmodEvents } from '../src/trace/kmod-events.js';
import { isFileEvent, type FileEvent } from '../src/trace/types.js';

const HEADER = '#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath';

/** A log with what makes repeats subtle: overlapping ranges, inode-only faults, an inode that
 *  another path takes over, a path whose inode changes, zero-length reads, squashfs reads. */
function log(): Buffer {
  let seed = 12345;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
  const rows = [HEADER];
  let seq = 0;
  const row = (event: string, dev: string, ino: string, offset: string, length: string, path: string): void => {
    rows.push(`${seq}\t${1000 + seq * 7}\t${event}\t${100 + (seq % 3)}\tp${seq % 3}\t${dev}\t${ino}\t${offset}\t${length}\t${path}`);
    seq++;
  };
  for (let k = 0; k < 12; k++) row('open', '7:0', String(k + 1), '-', '-', `/usr/f${k}`);
  for (let n = 0; n < 3000; n++) {
    const k = rand(12);
    const r = rand(20);
    if (r === 0) row('open', '7:0', String(k + 1), '-', '-', `/usr/f${k}`);
    else if (r === 1) row('fault', '7:0', String(k + 1), String(rand(8) * 4096), '4096', '-'); // by inode only
    else if (r === 2) row('read', '7:0', String(k + 1), String(rand(100) * 1000), '0', `/usr/f${k}`);
    else if (r === 3) row('open', '7:0', String(k + 1), '-', '-', `/usr/g${k}`); // the inode named by another path
    else if (r === 4) row('read', '7:0', String(k + 50), String(rand(8) * 4096), '8192', `/usr/f${k}`); // the path's inode changed
    else if (r === 5) row('sqread', '7:0', '-', String(rand(1000) * 512), '4096', '-');
    else if (r === 6) row('exec', '7:1', String(k + 1), '-', '-', `/usr/f${k}`); // same inode, another device
    else if (r === 7) row('open', '-', '-', '-', '-', `/usr/f${k}`); // no inode at all
    else row(r % 2 ? 'read' : 'fault', '7:0', String(k + 1), String(rand(16) * 2048), String(1 + rand(3) * 4096), `/usr/f${k}`);
  }
  return Buffer.from(`${rows.join('\n')}\n`);
}

t.test('events built from the columns: one per row, in order, with the fields of the row', (t) => {
  const trace = parseKmodEvents(log(), 'events.tsv');
  const columns = eventDigestOf(trace)!;
  t.ok(columns, 'a module log is held as a digest');
  t.equal(eventCount(trace), 3012);
  t.equal(trace.events.length, 3012);
  t.same(trace.events[0], { kind: 'open', seq: 0, timeNs: 1000, path: '/usr/f0', pid: 100, comm: 'p0', ino: 1, dev: '7:0' });
  t.ok(trace.events.every((e, i) => e.seq === i));
  const block = trace.events.find((e) => e.kind === 'block');
  t.match(block, { kind: 'block', device: '7:0', squashfsOffset: true, length: 4096 });
  t.equal(columns.blocks, trace.events.filter((e) => e.kind === 'block').length);
  t.equal(columns.pathless, trace.events.filter((e) => isFileEvent(e) && e.path === '').length);
  t.end();
});

t.test('the repeats left out for the optimizer change no boot', (t) => {
  const trace = parseKmodEvents(log(), 'events.tsv');
  const all = trace.events.filter(isFileEvent);
  const reduced = eventDigestOf(trace)!.fileEventsWithoutRepeats();
  t.ok(reduced.length < all.length / 4, `most events are repeats (${reduced.length} of ${all.length} kept)`);
  // sizes that cut some ranges short, so that clamping to the file matters too
  const rels = [...Array(12).keys()].flatMap((k) => [`usr/f${k}`, `usr/g${k}`]);
  const universe = {
    files: rels.map((rel, i) => ({ rel, size: 5000 + i * 3000, ratio: 1, walkRank: i })),
    byRel: new Map(rels.map((rel, i) => [rel, i])),
  } as unknown as Universe;
  const fileOf = (path: string): number | undefined => universe.byRel.get(path.slice(1));
  const boots = (events: readonly FileEvent[]) => bootsFromTraces([trace], universe, { fileEventsOf: () => events, fileOf });
  const expected = boots(all);
  t.ok(expected[0]!.accesses.length > 50, 'the boot has accesses');
  t.same(boots(reduced), expected);

  // the case the inode's name decides: f0 reads again after g0 took its inode, then a fault by inode only
  const rows = [HEADER, '0\t1\topen\t1\tp\t7:0\t1\t-\t-\t/usr/f0', '1\t2\tread\t1\tp\t7:0\t1\t0\t4096\t/usr/f0',
    '2\t3\topen\t1\tp\t7:0\t1\t-\t-\t/usr/g0', '3\t4\tread\t1\tp\t7:0\t1\t0\t4096\t/usr/f0', '4\t5\tfault\t1\tp\t7:0\t1\t4096\t4096\t-'];
  const renamed = parseKmodEvents(Buffer.from(`${rows.join('\n')}\n`), 'renamed.tsv');
  const kept = eventDigestOf(renamed)!.fileEventsWithoutRepeats();
  const boot = (events: readonly FileEvent[]) => bootsFromTraces([renamed], universe, { fileEventsOf: () => events, fileOf });
  t.equal(kept.length, 5, 'the repeated read of f0 names the inode again: kept');
  t.same(boot(kept), boot(renamed.events.filter(isFileEvent)));
  t.equal(boot(kept)[0]!.accesses.at(-1)!.file, universe.byRel.get('usr/f0'), 'the fault is f0\'s');
  t.end();
});

t.test('read ranges by path, merged as they are read: what merging every event\'s range gives', (t) => {
  const trace = parseKmodEvents(log(), 'events.tsv');
  const byPath = eventDigestOf(trace)!.readRangesByPath();
  const expected = new Map<string, [number, number][]>();
  for (const e of trace.events) {
    if (!isFileEvent(e) || e.path === '' || e.offset === undefined || e.length === undefined) continue;
    const list = expected.get(e.path) ?? [];
    list.push([e.offset, e.offset + e.length]);
    expected.set(e.path, list);
  }
  t.same([...byPath.keys()].sort(), [...expected.keys()].sort());
  t.ok([...expected.values()].some((l) => l.some(([a, b]) => a === b)), 'empty reads are among them');
  for (const [path, list] of expected) t.same(mergeRanges(byPath.get(path)!), mergeRanges(list), path);
  t.end();
});

t.test('a log file is read again for its events; a stream keeps them; the profile is the same either way', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bootprof-digest-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'events.tsv');
  const bytes = log();
  writeFileSync(file, bytes);
  const expected = parseKmodEvents(bytes, file).events;
  const fromFile = await readTrace(file);
  t.ok(eventDigestOf(fromFile), 'read as a digest');
  t.same(fromFile.events, expected, 'the file read again gives every event');
  const once = parseKmodEvents((function* () {
    for (let at = 0; at < bytes.length; at += 777) yield bytes.subarray(at, at + 777);
  })(), 'stream');
  t.same(once.events, parseKmodEvents(bytes, 'stream').events, 'a stream read once keeps its events');

  const options = { excludes: ['^/usr/g1$'], stripPrefixes: ['/usr'], merge: 'concat' as const };
  const plain = { ...fromFile, events: fromFile.events }; // no digest: the event-by-event path
  t.equal(eventDigestOf(plain), undefined);
  t.same(profileFromTraces([fromFile], options), profileFromTraces([plain], options));

  const changed = await readTrace(file);
  appendFileSync(file, '99999\t1\topen\t1\tp\t-\t-\t-\t-\t/late\n');
  t.throws(() => changed.events, { name: 'InputError', message: /changed while it was read/ });
});
