import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/*
 * `bootprof --version` and `bootprof --help` without yargs: loading yargs alone costs more than
 * a bare node start-up, and these two answers never change between builds. The version comes
 * from package.json (as yargs's would); the help text is yargs's own, written at build time by
 * scripts/build-help.mjs next to this file, and used only while it is newer than every file of
 * dist/cli and errors.js (so a `tsc` without the help step can never print a stale listing) and
 * the output is at least as wide as the listing was wrapped for.
 */

/** The file the build writes the top-level help into (dist/cli/help.txt). */
export const HELP_CACHE = 'help.txt';
/** The width the cached help is wrapped at: the parser's default and maximum. */
export const HELP_CACHE_COLUMNS = 100;

const here = fileURLToPath(new URL('.', import.meta.url));

/** The text to print for `argv` (the arguments after the program name), or undefined: run the parser. */
export function answerWithoutParser(argv: readonly string[]): string | undefined {
  if (argv.length !== 1) return undefined;
  try {
    if (argv[0] === '--version') return versionText();
    if (argv[0] === '--help' || argv[0] === '-h') return cachedHelp();
  } catch {
    // anything odd (no package.json, unreadable cache): the parser answers instead
  }
  return undefined;
}

function versionText(): string | undefined {
  const pkg = JSON.parse(readFileSync(join(here, '..', '..', 'package.json'), 'utf8')) as { name?: string; version?: unknown };
  return pkg.name === 'bootprof' && typeof pkg.version === 'string' ? `${pkg.version}\n` : undefined;
}

function cachedHelp(): string | undefined {
  const columns = process.stdout.isTTY ? (process.stdout.columns ?? HELP_CACHE_COLUMNS) : HELP_CACHE_COLUMNS;
  if (columns < HELP_CACHE_COLUMNS) return undefined;
  const cache = join(here, HELP_CACHE);
  const built = statSync(cache).mtimeMs;
  const inputs = [join(here, '..', 'errors.js'), ...readdirSync(here, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js')).map((f) => join(here, f))];
  for (const input of inputs) if (statSync(input).mtimeMs > built) return undefined;
  return readFileSync(cache, 'utf8');
}
