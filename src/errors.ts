/**
 * The CLI's exit codes: one per outcome (README "Exit codes", `bootprof --help`).
 * Every error class below carries its code; the CLI's error boundary only reads `exitCode`.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** Bad input: a missing or unreadable file, a malformed or unsupported trace, image or list. */
  input: 1,
  /** Bad command line: unknown command or option, missing or invalid argument. */
  usage: 2,
  /** `report --fail-on-regression` found a regression (the report is still written). */
  regression: 3,
  /** `verify` ran and the image fails the check (order or no-fragments). */
  checkFailed: 4,
  /** An external tool (mksquashfs, qemu, insmod) failed or is missing. */
  tool: 5,
  /** `capture --qemu`: the guest did not power off within --timeout (the trace so far is kept). */
  timeout: 6,
  /** A bug in bootprof: an internal error with a stack trace (EX_SOFTWARE). */
  internal: 70,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The table as the README and `--help` print it: code, then what it means. */
export const EXIT_CODE_HELP: ReadonlyArray<readonly [ExitCode, string]> = [
  [EXIT.ok, 'success'],
  [EXIT.input, 'bad input: missing or unreadable file, malformed or unsupported trace, image or list'],
  [EXIT.usage, 'bad command line: unknown command or option, missing or invalid argument'],
  [EXIT.regression, 'report --fail-on-regression: a later image regresses past --threshold (report written)'],
  [EXIT.checkFailed, 'verify: the image does not follow the sort file or the action file'],
  [EXIT.tool, 'an external tool (mksquashfs, qemu, insmod) failed or is missing'],
  [EXIT.timeout, 'capture --qemu: the guest did not power off within --timeout (trace kept)'],
  [EXIT.internal, 'internal error: a bug in bootprof, please report it'],
];

/**
 * Every error the library throws on purpose is a BootprofError with a stable `code`.
 * The CLI prints `message` on one line; anything else reaching the CLI is a bug.
 */
export class BootprofError extends Error {
  readonly code: string;
  /** Exit code the CLI uses for this error (EXIT.input unless the class says otherwise). */
  exitCode: ExitCode = EXIT.input;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A check the user asked for did not pass (verify): not an error in the input. */
export class CheckFailedError extends BootprofError {
  constructor(message: string, exitCode: ExitCode = EXIT.checkFailed) {
    super('ECHECK', message);
    this.exitCode = exitCode;
  }
}

/** A run we bounded in time did not end by itself (capture --qemu: the guest never powered off). */
export class TimeoutError extends BootprofError {
  constructor(message: string) {
    super('ETIMEOUT', message);
    this.exitCode = EXIT.timeout;
  }
}

/** Malformed input: names the file and, where it applies, the byte offset. */
export class FormatError extends BootprofError {
  readonly file: string;
  readonly offset: number | undefined;
  constructor(file: string, offset: number | undefined, message: string, options?: { cause?: unknown }) {
    const where = offset === undefined ? file : `${file} at byte ${offset}`;
    super('EFORMAT', `${where}: ${message}`, options);
    this.file = file;
    this.offset = offset;
  }
}

/** A value read from input is past a limit we enforce to bound time and memory. */
export class LimitError extends FormatError {
  constructor(file: string, offset: number | undefined, message: string) {
    super(file, offset, message);
    (this as { code: string }).code = 'ELIMIT';
  }
}

/** A file, directory or tool we need is missing or unusable. */
export class InputError extends BootprofError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EINPUT', message, options);
  }
}

/** A feature that exists in the command line but is not built yet. */
export class UnsupportedError extends BootprofError {
  constructor(message: string) {
    super('EUNSUPPORTED', message);
  }
}

/** An external tool (mksquashfs, qemu, ...) failed or is missing. */
export class ToolError extends BootprofError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETOOL', message, options);
    this.exitCode = EXIT.tool;
  }
}

/** Describe a Node system error (ENOENT, EACCES, ...) for a path in one line. */
export function describeSystemError(path: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return `${path}: no such file or directory`;
    case 'EACCES':
    case 'EPERM':
      return `${path}: permission denied`;
    case 'EISDIR':
      return `${path}: is a directory`;
    case 'ENOTDIR':
      return `${path}: not a directory`;
    default:
      return `${path}: ${(err as Error | undefined)?.message ?? String(err)}`;
  }
}
