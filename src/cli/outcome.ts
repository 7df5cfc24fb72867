import { BootprofError, EXIT, type ExitCode } from '../errors.js';
import { ExitStatus, UsageError } from './output.js';

/** Where `run` writes help, version and error messages (commands write their data through cli/output.ts). */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Width of the help text. Default: the terminal's, at most 100. */
  columns?: number;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/**
 * The one error boundary of a command line (yargs's or the fast path's): typed errors become one
 * line on stderr and their own code, anything else is a bug (EXIT.internal, with the stack).
 */
export function exitCodeOf(err: unknown, io: CliIo): ExitCode {
  if (err instanceof ExitStatus) return err.exitCode;
  if (err instanceof UsageError) {
    io.stderr(`bootprof: ${err.message}\nRun "bootprof --help" for usage.\n`);
    return EXIT.usage;
  }
  if (err instanceof BootprofError) {
    io.stderr(`bootprof: ${err.message}\n`);
    return err.exitCode;
  }
  io.stderr(`bootprof: internal error (please report): ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT.internal;
}
