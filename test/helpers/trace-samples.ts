import { fileURLToPath } from 'node:url';
import { FormatError } from '../../src/errors.js';

/** Path of a file under test/fixtures/trace. */
export function traceFixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/trace/${name}`, import.meta.url));
}

/** The FormatError `fn` throws; fails (throws) when it throws nothing or something else. */
export function formatErrorOf(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FormatError) return err;
    throw new Error(`expected a FormatError, got ${String(err)}`, { cause: err });
  }
  throw new Error('expected a FormatError, nothing was thrown');
}
