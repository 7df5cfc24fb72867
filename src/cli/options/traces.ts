import type { Argv } from 'yargs';

export interface TracesArgs {
  traces: string[];
}

/** The variadic `<traces..>` positional (any capture format; `-` is stdin). */
export function withTraces<T>(yargs: Argv<T>, describe: string): Argv<T & TracesArgs> {
  return yargs.positional('traces', { describe, type: 'string', array: true, demandOption: true }) as Argv<T & TracesArgs>;
}
