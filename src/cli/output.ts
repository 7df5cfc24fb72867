import { writeFileAtomic } from '../util/atomic-write.js';
import type { ExitCode } from '../errors.js';

/** stdout carries data; stderr carries messages. Only cli/ writes to either. */
export function emitData(text: string, outPath?: string): void {
  if (outPath !== undefined && outPath !== '-') writeFileAtomic(outPath, text);
  else process.stdout.write(text);
}

/** The same for a document given in pieces (jsonChunks): written as they come. */
export function emitDataPieces(pieces: Iterable<string>, outPath?: string): void {
  if (outPath !== undefined && outPath !== '-') writeFileAtomic(outPath, pieces);
  else for (const piece of pieces) process.stdout.write(piece);
}

export function note(message: string): void {
  process.stderr.write(`bootprof: ${message}\n`);
}

/** Progress lines only when a person is watching stderr. */
export function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${message}`);
}

export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
}

/**
 * A command that has done its work but must end with another exit code than 0 without an error
 * message (report --fail-on-regression): thrown by the handler, turned into the code by run().
 */
export class ExitStatus extends Error {
  readonly exitCode: ExitCode;
  constructor(exitCode: ExitCode) {
    super(`exit status ${exitCode}`);
    this.exitCode = exitCode;
  }
}

/** A bad command line (yargs's validation, or a command's .check()): one line, exit code EXIT.usage. */
export class UsageError extends Error {}
