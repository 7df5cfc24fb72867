import yargs, { type Argv } from 'yargs';
import { EXIT, EXIT_CODE_HELP, type ExitCode } from '../errors.js';
import { commands } from './commands/index.js';
import { withCompletion } from './commands/completion.js';
import { exitCodeOf, processIo, type CliIo } from './outcome.js';
import { UsageError } from './output.js';

/*
 * The command line as a factory: `createParser` builds the yargs instance with every command,
 * `run` parses, runs the command and turns its outcome into an exit code (the one error boundary).
 * main.ts only calls `run` with process.argv; tests call either in-process.
 */

/**
 * yargs drops every positional that starts with '-' (a lone `-` for stdin, or `-name` after `--`):
 * it re-parses variadic positionals as `--traces VALUE`, and a VALUE starting with '-' reads as the
 * next option. So such arguments travel through yargs with a NUL in front (no real argument holds
 * a NUL), and `restoreDashArgs` takes it off again before validation and the handlers.
 */
const DASH_GUARD = '\0';

/**
 * mksquashfs options that `bootprof tune` may print beside -b, spelt as mksquashfs spells them:
 * `bootprof sort $OPTS` must accept them. yargs would read `-Xbcj` as the flags X, b, c and j.
 */
const MKSQUASHFS_SPELLINGS: ReadonlyMap<string, string> = new Map([['-Xbcj', '--xbcj']]);

/** A lone `-` anywhere (stdin, or stdout for -o), and every argument after `--`, guarded. */
function guardDashArgs(argv: readonly string[]): string[] {
  const end = argv.indexOf('--');
  return argv.flatMap((arg, i) => {
    if (i === end) return []; // consumed here: after it, arguments are never options
    if (end !== -1 && i > end) return [DASH_GUARD + arg];
    return [arg === '-' ? DASH_GUARD + arg : (MKSQUASHFS_SPELLINGS.get(arg) ?? arg)];
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

/** A usage message may quote a guarded argument (strict mode's "Unknown argument: -"). */
function unguardText(text: string): string {
  return text.split(DASH_GUARD).join('');
}

export { UsageError };

export const EPILOGUE = `Exit codes:\n${EXIT_CODE_HELP.map(([code, what]) => `  ${String(code).padStart(2)}  ${what}`).join('\n')}\n\nA trace given as "-" is read from stdin.`;

export { processIo, type CliIo };

/**
 * The parser with every command, for `argv` (the arguments after the program name). Nothing runs
 * until it is parsed; it never exits the process. Validation failures reject with UsageError.
 */
export function createParser(argv: readonly string[], io: CliIo = processIo): Argv {
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
    .exitProcess(false)
    .wrap(Math.min(100, io.columns ?? process.stdout.columns ?? 100))
    .middleware((args) => restoreDashArgs(args as Record<string, unknown>), true)
    .fail((msg, err) => {
      // yargs's own validation errors (YError) are usage errors too, not bugs
      if (err && err.name !== 'YError') throw err;
      if (err) throw new UsageError(unguardText(err.message));
      throw new UsageError(unguardText(msg));
    });
  for (const command of commands) parser = parser.command(command);
  return withCompletion(parser);
}

/**
 * Parse `argv`, run its command, and return the exit code: typed errors become one line on stderr
 * and their own code, anything else is a bug (EXIT.internal, with the stack).
 */
export async function run(argv: readonly string[], io: CliIo = processIo): Promise<ExitCode> {
  try {
    let output = '';
    // with a callback, yargs hands over --help and --version text instead of printing it
    await createParser(argv, io).parseAsync(guardDashArgs(argv), {}, (_err, _args, text) => {
      output = text;
    });
    if (output !== '') io.stdout(`${output}\n`);
    return EXIT.ok;
  } catch (err: unknown) {
    return exitCodeOf(err, io);
  }
}
