// `-` is standard input wherever a trace is accepted (issue 11 item 8). yargs used to drop a lone
// `-` from the variadic <traces..> positional: `map --image M -` exited 0 with an empty profile.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { FormatError } from '../src/errors.js';
import { readTraces, streamReader } from '../src/trace/read.js';
import { isFileEvent } from '../src/trace/types.js';
import { runCli } from './helpers/cli.js';

const fixture = (rel: string): string => fileURLToPath(new URL(`./fixtures/${rel}`, import.meta.url));
const profiles = (rel: string): string => fileURLToPath(new URL(`../profiles/${rel}`, import.meta.url));
const events = fixture('trace/captured/bootprof-events.tsv');
const layout = fixture('trace/captured-layout.json');
const qemuLog = profiles('vm-workload/qemu-trace.log');
const qemuManifest = profiles('vm-workload/image-manifest.json');
const bootlog = profiles('vm-workload/bootlog.list');

t.test('cat trace | bootprof map --image M - is bootprof map --image M trace', (t) => {
  const byName = runCli(['map', '--image', qemuManifest, qemuLog]);
  t.equal(byName.status, 0, byName.stderr);
  t.match(byName.stdout, /\/usr\/bin\/bash/, 'the profile names files');
  const piped = runCli(['map', '--image', qemuManifest, '-'], { input: readFileSync(qemuLog, 'latin1') });
  t.equal(piped.status, 0, piped.stderr);
  t.equal(piped.stdout, byName.stdout, 'the same profile, byte for byte');
  t.match(piped.stderr, /^bootprof: stdin: /m, 'messages name the trace "stdin"');
  // the dash may come anywhere among the options
  const first = runCli(['map', '-', '--image', qemuManifest], { input: readFileSync(qemuLog, 'latin1') });
  t.equal(first.stdout, byName.stdout, '- before the options');
  t.end();
});

t.test('cat trace | bootprof sort - is bootprof sort trace, in the order given', (t) => {
  const byName = runCli(['sort', bootlog]);
  t.equal(byName.status, 0, byName.stderr);
  t.ok(byName.stdout.split('\n').length > 10, 'a sort file');
  const piped = runCli(['sort', '-'], { input: readFileSync(bootlog, 'utf8') });
  t.equal(piped.status, 0, piped.stderr);
  t.equal(piped.stdout, byName.stdout);

  // several profiles: stdin takes the place of the `-` among them
  const dir = t.testdir({ 'first.list': '/etc/first\n/usr/bin/shared\n', 'last.list': '/etc/last\n/usr/bin/shared\n' });
  const middle = '/etc/middle\n/usr/bin/other\n';
  writeFileSync(join(dir, 'middle.list'), middle);
  for (const merge of ['concat', 'interleave']) {
    const files = runCli(['sort', '--merge', merge, join(dir, 'first.list'), join(dir, 'middle.list'), join(dir, 'last.list')]);
    const mixed = runCli(['sort', '--merge', merge, join(dir, 'first.list'), '-', join(dir, 'last.list')], { input: middle });
    t.equal(mixed.status, 0, mixed.stderr);
    t.equal(mixed.stdout, files.stdout, `--merge ${merge}: "first - last" is "first middle last"`);
  }
  t.end();
});

t.test('every command that takes traces reads - from stdin', (t) => {
  const input = readFileSync(events, 'latin1');
  // simulate names the measured trace after its file: "measured (stdin)"
  const normalize = (s: string): string => s.replace(/\((stdin|bootprof-events\.tsv)\)/g, '(TRACE)').replace(/ +/g, ' ');
  for (const command of ['map', 'sort', 'readahead', 'simulate', 'tune']) {
    const byName = runCli([command, '--image', layout, events]);
    t.equal(byName.status, 0, `${command} ${events}: ${byName.stderr}`);
    const piped = runCli([command, '--image', layout, '-'], { input });
    t.equal(piped.status, 0, `${command} -: ${piped.stderr}`);
    t.ok(piped.stdout.length > 0, `${command} -: output`);
    t.equal(normalize(piped.stdout), normalize(byName.stdout), `${command} -: the same output as from the file`);
  }
  const dir = t.testdir();
  const report = runCli(['report', '--image', layout, '-o', join(dir, 'report.html'), '-'], { input });
  t.equal(report.status, 0, report.stderr);
  t.match(readFileSync(join(dir, 'report.html'), 'utf8'), /from stdin/, 'the report names the trace "stdin"');
  t.end();
});

t.test('an empty or unreadable stdin is bad input, never an empty profile', (t) => {
  for (const command of [['map', '--image', qemuManifest], ['sort']]) {
    const res = runCli([...command, '-'], { input: '' });
    t.equal(res.status, 1, `${command[0]} - with nothing on stdin exits 1`);
    t.equal(res.stdout, '');
    t.match(res.stderr, /^bootprof: stdin at byte 0: empty file: no trace events$/m);
  }
  const garbage = runCli(['sort', '-'], { input: 'this is not a trace\n' });
  t.equal(garbage.status, 1);
  t.match(garbage.stderr, /^bootprof: stdin at byte 0: unrecognised trace format/m);
  t.end();
});

t.test('- given twice reads stdin once and uses it twice, as a file named twice', (t) => {
  const twice = runCli(['map', '--image', qemuManifest, '-', '-'], { input: readFileSync(qemuLog, 'latin1') });
  const files = runCli(['map', '--image', qemuManifest, qemuLog, qemuLog]);
  t.equal(twice.status, 0, twice.stderr);
  t.equal(twice.stdout, files.stdout);
  t.end();
});

t.test('after --, a trace whose name starts with a dash is a file, and - is still stdin', (t) => {
  const dir = t.testdir();
  writeFileSync(join(dir, '-boot.list'), readFileSync(bootlog));
  const byName = runCli(['sort', bootlog]);
  const dashed = runCli(['sort', '--', '-boot.list'], { cwd: dir });
  t.equal(dashed.status, 0, dashed.stderr);
  t.equal(dashed.stdout, byName.stdout, 'sort -- -boot.list');
  const stdin = runCli(['sort', '--', '-'], { input: readFileSync(bootlog, 'utf8') });
  t.equal(stdin.stdout, byName.stdout, 'sort -- -');
  const missing = runCli(['sort', '--', '-missing.list'], { cwd: dir });
  t.equal(missing.status, 1);
  t.match(missing.stderr, /^bootprof: -missing\.list: no such file or directory$/m);
  t.end();
});

t.test('-o - is still stdout, and a stray - is still a usage error where no trace is taken', (t) => {
  const res = runCli(['sort', '-o', '-', bootlog]);
  t.equal(res.status, 0, res.stderr);
  t.equal(res.stdout, runCli(['sort', bootlog]).stdout);
  const longForm = runCli(['sort', '--output', '-', bootlog]);
  t.equal(longForm.stdout, res.stdout, '--output - as well');
  const inspect = runCli(['inspect', qemuManifest, '-']);
  t.equal(inspect.status, 2, 'inspect takes no trace: the extra - is refused');
  t.match(inspect.stderr, /Unknown argument: -$/m, 'the message shows the argument as typed');
  t.end();
});

t.test('readTraces reads its stdin once, names it "stdin", and refuses an empty one', async (t) => {
  const text = Buffer.from('/etc/a\n/usr/bin/b\n');
  let reads = 0;
  const stream = Readable.from(
    (function* () {
      reads++;
      yield text;
    })(),
  );
  const stdin = streamReader(stream, 'stdin');
  const traces = await readTraces(['-', '-'], stdin);
  t.equal(traces.length, 2);
  t.equal(reads, 1, 'the stream is read once');
  t.same(traces.map((tr) => tr.source), ['stdin', 'stdin']);
  const paths = (i: number): string[] => traces[i]!.events.filter(isFileEvent).map((e) => e.path);
  t.same(paths(0), ['/etc/a', '/usr/bin/b']);
  t.same(paths(1), paths(0), 'both get the same bytes');
  await t.rejects(readTraces(['-'], streamReader(Readable.from([]), 'stdin')), FormatError);
});
