import type { Argv } from 'yargs';
import { UsageError } from '../output.js';

export interface JsonArgs {
  json: boolean;
}

/**
 * `--json`: the command's summary (what stderr says in words) as one JSON object on stdout. When the
 * command's data goes to stdout too (`dataOnStdout`), --json needs `-o FILE` for the data, so that
 * stdout stays one document.
 */
export function withJson<T>(yargs: Argv<T>, what: string, dataOnStdout: boolean): Argv<T & JsonArgs> {
  return yargs
    .option('json', { type: 'boolean', default: false, describe: what })
    .check((a) => {
      const output = (a as { output?: unknown }).output;
      if (dataOnStdout && a.json === true && (output === undefined || output === '-')) {
        throw new UsageError('--json prints the summary on stdout: give -o FILE for the data');
      }
      return true;
    }) as Argv<T & JsonArgs>;
}

/** One JSON document on stdout. */
export function emitJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
