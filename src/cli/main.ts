#!/usr/bin/env node
import { hideBin } from 'yargs/helpers';
import { EXIT } from '../errors.js';
import { run } from './parser.js';

// A reader that stops early (`bootprof inspect --json | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok);
  throw err;
});

process.exitCode = await run(hideBin(process.argv));
