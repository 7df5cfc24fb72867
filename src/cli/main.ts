#!/usr/bin/env node
import { EXIT } from '../errors.js';
import { answerWithoutParser } from './quick-answers.js';

// A reader that stops early (`bootprof inspect --json | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok);
  throw err;
});

// `--version` and `--help` need neither yargs nor a command: answered before they load (start-up).
const quick = answerWithoutParser(process.argv.slice(2));
if (quick !== undefined) {
  process.stdout.write(quick);
} else {
  const [{ hideBin }, { run }] = await Promise.all([import('yargs/helpers'), import('./parser.js')]);
  process.exitCode = await run(hideBin(process.argv));
}
