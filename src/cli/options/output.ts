import type { Argv } from 'yargs';

export interface OutputArgs {
  output?: string;
}

/** `-o/--output FILE`: written atomically (through symlinks, devices and FIFOs); `-` or none is stdout. */
export function withOutput<T>(yargs: Argv<T>): Argv<T & OutputArgs> {
  return yargs.option('output', { alias: 'o', type: 'string', describe: 'Write here (atomically) instead of stdout' }) as Argv<T & OutputArgs>;
}
