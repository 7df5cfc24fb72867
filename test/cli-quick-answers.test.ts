import { existsSync, readFileSync } from 'node:fs';
import t from 'tap';
import { run, type CliIo } from '../src/cli/parser.js';
import { answerWithoutParser, HELP_CACHE_COLUMNS } from '../src/cli/quick-answers.js';
import { CLI, runCli } from './helpers/cli.js';

/* `--version` and `--help` are answered before yargs loads: the answers must be yargs's own. */

async function parserOutput(args: string[]): Promise<string> {
  let out = '';
  const io: CliIo = { stdout: (text) => (out += text), stderr: () => {}, columns: HELP_CACHE_COLUMNS };
  t.equal(await run(args, io), 0, `${args.join(' ')} through the parser`);
  return out;
}

t.test('--version: package.json\'s version, as the parser prints it', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  t.equal(answerWithoutParser(['--version']), `${pkg.version}\n`);
  t.equal(answerWithoutParser(['--version']), await parserOutput(['--version']));
  const built = runCli(['--version']);
  t.equal(built.stdout, `${pkg.version}\n`);
  t.equal(built.status, 0);
});

t.test('only the bare question is answered early', async (t) => {
  for (const argv of [[], ['sort', '--help'], ['--version', '--help'], ['--versions'], ['-v'], ['help']]) {
    t.equal(answerWithoutParser(argv), undefined, JSON.stringify(argv));
  }
  // no help cache next to the sources: the parser answers
  t.equal(answerWithoutParser(['--help']), undefined, 'src/cli has no help.txt');
});

t.test('the built CLI\'s --help is the parser\'s, byte for byte', async (t) => {
  t.ok(existsSync(new URL('help.txt', new URL('.', `file://${CLI}`))), 'npm run build wrote dist/cli/help.txt');
  const expected = await parserOutput(['--help']);
  t.match(expected, /Commands:[\s\S]*bootprof sort <traces\.\.>[\s\S]*Exit codes:/);
  for (const flag of ['--help', '-h']) {
    const built = runCli([flag]);
    t.equal(built.status, 0);
    t.equal(built.stdout, expected, flag);
  }
});
