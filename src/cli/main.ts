#!/usr/bin/env node
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { BootprofError, EXIT, EXIT_CODE_HELP } from '../errors.js';
import { commands } from './commands/index.js';

/**
 * yargs drops every positional that starts with '-' (a lone `-` for stdin, or `-name` after `--`):
 * it re-parses variadic positionals as `--traces VALUE`, and a VALUE starting with '-' reads as the
 * next option. So such arguments travel through yargs with a NUL in front (no real argument holds
 * a NUL), and `restoreDashArgs` takes it off again before validation and the handlers.
 */
const DASH_GUARD = '\0';

/** A lone `-` anywhere (stdin, or stdout for -o), and every argument after `--`, guarded. */
function guardDashArgs(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return argv.flatMap((arg, i) => {
    if (i === end) return []; // consumed here: after it, arguments are never options
    if (end !== -1 && i > end) return [DASH_GUARD + arg];
    return [arg === '-' ? DASH_GUARD + arg : arg];
  });
}

function unguard(value: unknown): unknown {
  if (typeof value === 'string') return value.startsWith(DASH_GUARD) ? value.slice(DASH_GUARD.length) : value;
  if (Array.isArray(value)) return value.map(unguard);
  return value;
}

function restoreDashArgs(argv: Record<string, unknown>): void {
  for (const key of Object.keys(argv)) argv[key] = unguard(argv[key]);
}

const EPILOGUE = `Exit codes:\n${EXIT_CODE_HELP.map(([code, what]) => `  ${String(code).padStart(2)}  ${what}`).join('\n')}\n\nA trace given as "-" is read from stdin.`;

/** The one error boundary: typed errors become one line and their own exit code; anything else is a bug. */
async function main(argv: string[]): Promise<void> {
  let parser = yargs(guardDashArgs(argv))
    .scriptName('bootprof')
    .usage('$0 <command> [options]\n\nMake live systems boot faster from slow media.')
    .epilogue(EPILOGUE)
    .strict()
    .demandCommand(1, 'Name a command; see --help.')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version()
    .wrap(Math.min(100, process.stdout.columns ?? 100))
    .middleware((args) => restoreDashArgs(args as Record<string, unknown>), true)
    .fail((msg, err) => {
      // yargs's own validation errors (YError) are usage errors too, not bugs
      if (err && err.name !== 'YError') throw err;
      if (err) throw new UsageError(unguardText(err.message));
      throw new UsageError(unguardText(msg));
    });
  for (const command of commands) parser = parser.command(command);
  await parser.parseAsync();
}

/** A usage message may quote a guarded argument (strict mode's "Unknown argument: -"). */
function unguardText(text: string): string {
  return text.split(DASH_GUARD).join('');
}

class UsageError extends Error {}

// A reader that stops early (`bootprof inspect --json | head`) is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(EXIT.ok);
  throw err;
});

main(hideBin(process.argv)).catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`bootprof: ${err.message}\nRun "bootprof --help" for usage.\n`);
    process.exitCode = EXIT.usage;
  } else if (err instanceof BootprofError) {
    process.stderr.write(`bootprof: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`bootprof: internal error (please report): ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = EXIT.internal;
  }
});
