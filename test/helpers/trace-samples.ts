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

/** CPU milliseconds `fn` takes (wall time on a shared 2-core machine says little). */
export function cpuMs<T>(fn: () => T): { result: T; ms: number } {
  const start = process.cpuUsage();
  const result = fn();
  const used = process.cpuUsage(start);
  return { result, ms: (used.user + used.system) / 1000 };
}
