import type { Argv } from 'yargs';

/**
 * `bootprof completion`: prints a bash completion script (zsh too, through bashcompinit). The script
 * calls `bootprof --get-yargs-completions WORDS...`, which yargs answers from the same parser, so
 * commands and options complete as --help lists them.
 */
export function withCompletion<T>(parser: Argv<T>): Argv<T> {
  return parser.completion(
    'completion',
    'Print a shell completion script: bootprof completion >> ~/.bashrc (zsh: autoload -U bashcompinit && bashcompinit first)',
  );
}
