#!/usr/bin/env node
import { EXIT } from '../errors.js';
import { answerWithoutParser } from './quick-answers.js';
import { fastCommand } from './fast-path.js';
import { exitCodeOf, processIo } from './outcome.js';

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
  // the common command lines skip yargs too (fast-path.ts); anything else goes through it
  const argv = process.argv.slice(2);
  const fast = await fastCommand(argv);
  if (fast !== undefined) {
    try {
      await fast.command.handler(fast.args);
      process.exitCode = EXIT.ok;
    } catch (err) {
      process.exitCode = exitCodeOf(err, processIo);
    }
  } else {
    const { run } = await import('./parser.js');
    process.exitCode = await run(argv);
  }
}
