#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BootprofError } from '../errors.js';
import { commands } from './commands/index.js';

/** The one error boundary: typed errors become one line and exit code 1; anything else is a bug. */
async function main(argv: string[]): Promise<void> {
  let parser = yargs(argv)
    .scriptName('bootprof')
    .usage('$0 <command> [options]\n\nMake live systems boot faster from slow media.')
    .strict()
    .demandCommand(1, 'Name a command; see --help.')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .fail((msg, err) => {
      // yargs's own validation errors (YError) are usage errors too, not bugs
      if (err && err.name !== 'YError') throw err;
      if (err) throw new UsageError(err.message);
      throw new UsageError(msg);
    });
  for (const command of commands) parser = parser.command(command);
  await parser.parseAsync();
}

class UsageError extends Error {}

// A reader that stops early (`bootprof inspect --json | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(hideBin(process.argv)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`bootprof: ${err.message}\nRun "bootprof --help" for usage.\n`);
    process.exitCode = 2;
  } else if (err instanceof BootprofError) {
    process.stderr.write(`bootprof: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`bootprof: internal error (please report): ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 70;
  }
});
