/**
 * Every error the library throws on purpose is a BootprofError with a stable `code`.
 * The CLI prints `message` on one line; anything else reaching the CLI is a bug.
 */
export class BootprofError extends Error {
  readonly code: string;
  /** Exit code the CLI uses for this error (1 unless a command needs another, e.g. a failed check). */
  exitCode = 1;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A check the user asked for did not pass (verify, --fail-on-regression): not an error in the input. */
export class CheckFailedError extends BootprofError {
  constructor(message: string, exitCode = 1) {
    super('ECHECK', message);
    this.exitCode = exitCode;
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

/** An external tool (mksquashfs, qemu, ...) failed. */
export class ToolError extends BootprofError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETOOL', message, options);
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
