// One exit code per outcome (issue 11 item 9), listed in --help and in the README. The commands'
// own tests check the codes they produce: 3 report-cli, 4 cmd-verify, 6 capture-cli.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import {
  BootprofError,
  CheckFailedError,
  EXIT,
  EXIT_CODE_HELP,
  FormatError,
  InputError,
  LimitError,
  TimeoutError,
  ToolError,
  UnsupportedError,
} from '../src/errors.js';
import { runCli } from './helpers/cli.js';

const README = fileURLToPath(new URL('../README.md', import.meta.url));

t.test('every outcome has its own code, and the help table lists each once', (t) => {
  const codes = Object.values(EXIT);
  t.equal(new Set(codes).size, codes.length, 'no two outcomes share a code');
  t.same(EXIT_CODE_HELP.map(([code]) => code).sort((a, b) => a - b), [...codes].sort((a, b) => a - b));
  t.end();
});

t.test('each error class carries its outcome\'s code', (t) => {
  t.equal(new InputError('x').exitCode, EXIT.input);
  t.equal(new FormatError('f', 0, 'x').exitCode, EXIT.input);
  t.equal(new LimitError('f', 0, 'x').exitCode, EXIT.input);
  t.equal(new UnsupportedError('x').exitCode, EXIT.input, 'an image or pattern we cannot read is bad input');
  t.equal(new CheckFailedError('x').exitCode, EXIT.checkFailed);
  t.equal(new ToolError('x').exitCode, EXIT.tool);
  t.equal(new TimeoutError('x').exitCode, EXIT.timeout);
  t.ok(new TimeoutError('x') instanceof BootprofError);
  t.same([EXIT.input, EXIT.usage, EXIT.regression, EXIT.checkFailed, EXIT.tool, EXIT.timeout, EXIT.internal], [1, 2, 3, 4, 5, 6, 70]);
  t.end();
});

t.test('bootprof --help lists the exit codes', (t) => {
  const res = runCli(['--help']);
  t.equal(res.status, 0, res.stderr);
  t.match(res.stdout, /^Exit codes:$/m);
  for (const [code, what] of EXIT_CODE_HELP) {
    t.ok(res.stdout.split('\n').some((line) => line.trim() === `${code}  ${what}`), `--help: ${code} ${what}`);
  }
  t.end();
});

t.test('the README lists the same exit codes', (t) => {
  const text = readFileSync(README, 'utf8');
  const section = /^## Exit codes\n([\s\S]*?)(?=^## )/m.exec(text)?.[1] ?? '';
  t.ok(section.length > 0, 'README has an "Exit codes" section');
  const rows = [...section.matchAll(/^\| *(\d+) *\|/gm)].map((m) => Number(m[1]));
  t.same(rows, EXIT_CODE_HELP.map(([code]) => code), 'one row per code, in order');
  t.end();
});

t.test('the CLI exits with the outcome\'s code', (t) => {
  const dir = t.testdir({ root: { etc: { 'a.conf': 'a\n'.repeat(100) }, usr: { 'b.bin': 'b'.repeat(70_000) } }, 'boot.list': '/etc/a.conf\n/usr/b.bin\n' });
  const usage = runCli(['sort', '--no-such-option', join(dir, 'boot.list')]);
  t.equal(usage.status, EXIT.usage, `unknown option: ${usage.stderr}`);
  const noCommand = runCli([]);
  t.equal(noCommand.status, EXIT.usage, 'no command');
  const missing = runCli(['sort', join(dir, 'missing.list')]);
  t.equal(missing.status, EXIT.input, 'missing trace');
  t.match(missing.stderr, /missing\.list: no such file or directory/);
  const garbage = runCli(['sort', '-'], { input: '\0\0\0\0' });
  t.equal(garbage.status, EXIT.input, 'unreadable trace');
  const tool = runCli(['tune', '--root', join(dir, 'root'), '--rebuild', '--mksquashfs-args=-comp nonsense', join(dir, 'boot.list')]);
  t.equal(tool.status, EXIT.tool, `mksquashfs refusing its options is a tool failure: ${tool.stderr}`);
  t.match(tool.stderr, /mksquashfs failed building/);
  t.end();
});
