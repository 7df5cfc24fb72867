import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runCli } from './helpers/cli.js';
import { fileBytes } from './helpers/sample-tree.js';

// Issue 13's command-line conventions: --json summaries, the completion command, the man page,
// and the package's install-time scripts.

function fixture(dir: string): { root: string; image: string; trace: string } {
  const root = join(dir, 'root');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  for (let i = 0; i < 12; i++) writeFileSync(join(root, `usr/lib/f${i}`), fileBytes(i + 1, 30000 + i * 5000));
  const image = join(dir, 'fs.squashfs');
  execFileSync('mksquashfs', [root, image, '-noappend', '-quiet', '-no-progress', '-b', '16384', '-no-xattrs'], { stdio: 'ignore' });
  const trace = join(dir, 'bootlog.list');
  writeFileSync(trace, ['/usr/lib/f7', '/usr/lib/f2', '/usr/lib', '/usr/lib/f9', '/missing'].join('\n') + '\n');
  return { root, image, trace };
}

t.test('--json: sort, readahead and report print their summary as one JSON document', (t) => {
  const dir = t.testdir();
  const { root, image, trace } = fixture(dir);

  const noOut = runCli(['sort', '--root', root, '--json', trace]);
  t.equal(noOut.status, 2, 'sort --json without -o: stdout would carry two documents');
  t.match(noOut.stderr, /--json prints the summary on stdout: give -o FILE/);

  const sortFile = join(dir, 'distrib.sort');
  const sort = runCli(['sort', '--root', root, '--json', '-o', sortFile, '--actions', join(dir, 'a.actions'), trace]);
  t.equal(sort.status, 0, sort.stderr);
  const s = JSON.parse(sort.stdout) as Record<string, unknown>;
  t.equal(s.command, 'sort');
  t.equal(s.written, 3, 'three regular files written');
  t.equal(readFileSync(sortFile, 'utf8').trim().split('\n').length, 3, 'the sort file went to -o');
  t.same(s.dropped, { directory: 1, missing: 1 }, 'dropped paths by reason');
  t.match(s.plan, { device: String, decisions: Array, predicted: { ms: Number }, firstAccessOrder: { ms: Number } });
  t.match(s.actions, { file: join(dir, 'a.actions'), written: Number });

  const rangesFile = join(dir, 'readahead.ranges');
  const ra = runCli(['readahead', '--ranges', '--probe-windows', 'none', '--image', image, '--json', '-o', rangesFile, trace]);
  t.equal(ra.status, 0, ra.stderr);
  const r = JSON.parse(ra.stdout) as Record<string, number | string>;
  const lines = readFileSync(rangesFile, 'utf8').trim().split('\n');
  t.equal(r.kind, 'ranges');
  t.equal(r.ranges, lines.length, 'the range count is the file\'s');
  t.equal(r.bytes, lines.reduce((n, l) => n + Number(l.split(' ')[1]), 0), 'bytes: the sum of the lengths');
  t.equal(r.lines, lines.length, 'lines: the file\'s');
  t.equal(r.metadata, 'tables');
  const withProbes = runCli(['readahead', '--ranges', '--image', image, '--json', '-o', rangesFile, trace]);
  const p = JSON.parse(withProbes.stdout) as Record<string, number>;
  t.equal(p.lines, readFileSync(rangesFile, 'utf8').trim().split('\n').length, 'with probe windows: lines counts them too');
  t.ok(p.probeWindowBytes! > 0, 'and says how many bytes they add');
  t.equal(r.filesRead, 3);
  const list = runCli(['readahead', '--image', image, '--json', '-o', join(dir, 'list'), trace]);
  t.match(JSON.parse(list.stdout), { kind: 'files', files: 3, dropped: { directory: 1, missing: 1 } });

  const report = runCli(['report', '--image', image, '--device', 'cd52x', '--json', '-o', join(dir, 'report.html'), trace]);
  t.equal(report.status, 0, report.stderr);
  const rep = JSON.parse(report.stdout) as { command: string; devices: string[]; scenarios: { devices: Record<string, { reads: number }> }[] };
  t.equal(rep.command, 'report');
  t.equal(rep.devices.length, 1, 'the one --device');
  const device = rep.devices[0]!;
  t.ok(rep.scenarios.length > 0 && rep.scenarios.every((x) => (x.devices[device]?.reads ?? 0) > 0), 'every layout costed on the device');
  t.match(readFileSync(join(dir, 'report.html'), 'utf8'), /<html/);
  t.end();
});

t.test('completion: a bash script, and completions from the same parser', (t) => {
  const script = runCli(['completion']);
  t.equal(script.status, 0);
  t.match(script.stdout, /complete .* bootprof/);
  const dir = t.testdir();
  // bash really loads it, and the function asks bootprof for the words
  const file = join(dir, 'completion.bash');
  writeFileSync(file, script.stdout);
  t.equal(execFileSync('bash', ['-c', `source ${file} && complete -p bootprof`], { encoding: 'utf8' }).trim(), 'complete -o bashdefault -o default -F _bootprof_yargs_completions bootprof');
  const commands = runCli(['--get-yargs-completions', 'bootprof', '']).stdout.split('\n');
  for (const c of ['sort', 'readahead', 'report', 'capture', 'completion']) t.ok(commands.includes(c), `completes ${c}`);
  const options = runCli(['--get-yargs-completions', 'bootprof', 'readahead', '--r']).stdout.split('\n');
  t.ok(options.includes('--ranges') && options.includes('--json'), 'completes readahead\'s options');
  t.end();
});

t.test('man page: generated from --help, every command, renders with man', (t) => {
  const dir = t.testdir();
  const page = join(dir, 'bootprof.1');
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/gen-man.mjs', import.meta.url)), page], { stdio: 'ignore' });
  const roff = readFileSync(page, 'utf8');
  for (const c of ['sort', 'tune', 'readahead', 'map', 'inspect', 'cat', 'verify', 'capture', 'simulate', 'report', 'completion']) {
    t.match(roff, new RegExp(`^\\.SS bootprof ${c}$`, 'm'), `section for ${c}`);
  }
  const text = execFileSync('man', ['-l', page], { encoding: 'utf8', env: { ...process.env, MANWIDTH: '120', MAN_KEEP_FORMATTING: '' } });
  t.match(text, /EXIT STATUS[\s\S]*70\s+internal error/, 'exit codes rendered');
  t.match(text, /--whole-files/, 'readahead\'s options rendered');
  t.end();
});

t.test('package: built on prepack (not prepare), ships docs, integrations and the man page', (t) => {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as {
    scripts: Record<string, string>;
    files: string[];
    man: string[];
    engines: { node: string };
  };
  t.equal(pkg.scripts.prepare, undefined, 'no build at global install');
  t.match(pkg.scripts.prepack, /^tsc -p tsconfig\.json && .*node scripts\/gen-man\.mjs$/);
  t.match(pkg.scripts.demo, /^tsc -p tsconfig\.json && /, 'npm run demo builds first');
  t.match(pkg.scripts.pretest, /tsc -p tsconfig\.json/, 'npm test builds first');
  for (const f of ['dist', 'docs', 'integrations', 'kmod', 'man']) t.ok(pkg.files.includes(f), `files has ${f}`);
  t.same(pkg.man, ['./man/bootprof.1']);
  t.equal(pkg.engines.node, '>=22', 'Node 22 and 24 (20 is end of life)');
  t.end();
});

t.test('progress on stderr only when stderr is a terminal', (t) => {
  const dir = t.testdir();
  const { image, trace } = fixture(dir);
  const cli = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
  const args = ['simulate', '--image', image, '--device', 'cd52x', trace];
  // script(1) gives the command a pseudo-terminal; stdout goes to a file, stderr stays on the pty
  const cmd = `${process.execPath} ${cli} ${args.join(' ')} > ${join(dir, 'out.txt')}`;
  const tty = execFileSync('script', ['-q', '-e', '-c', cmd, '/dev/null'], { encoding: 'utf8' });
  t.match(tty, 'simulate: replaying the boots', 'a progress line on the terminal');
  t.match(tty, '\r\x1b[K', 'cleared in place');
  const piped = runCli(args);
  t.equal(piped.status, 0);
  t.notMatch(piped.stderr, 'replaying', 'none when stderr is not a terminal');
  t.equal(readFileSync(join(dir, 'out.txt'), 'utf8'), piped.stdout, 'stdout carries the same data either way');
  t.end();
});
