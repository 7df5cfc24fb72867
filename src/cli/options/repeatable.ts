/**
 * A repeatable string option: one value each time it is given (nargs 1), so that an option given
 * before the traces does not swallow them; none given is [].
 */
export function repeatable(describe: string) {
  return { type: 'string', array: true, nargs: 1, default: [] as string[], describe } as const;
}

/** The same, given at least once. */
export function repeatableRequired(describe: string) {
  return { type: 'string', array: true, nargs: 1, demandOption: true, describe } as const;
}
