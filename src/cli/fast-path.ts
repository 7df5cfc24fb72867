import type { ArgumentsCamelCase, CommandModule } from 'yargs';

/*
 * The common command lines without yargs (start-up, issue 12): loading yargs and the help text it
 * renders before every handler cost more than a bare node start-up. The named command's own
 * builder is run against a stand-in that records its options, positionals, conflicts and checks;
 * a line that uses only plain spellings of those is parsed here into the same arguments yargs
 * would give the handler. Anything else (help, completion, an unknown or doubled option, a bad
 * value, a missing argument, a failing check) returns undefined, and yargs parses the line and
 * gives its own message. test/cli-fast-path.test.ts compares both parsers' arguments.
 */

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyCommand = CommandModule<any, any>;

/** Each command module, loaded alone: the fast path never loads the others. */
export const COMMAND_LOADERS: Readonly<Record<string, () => Promise<AnyCommand>>> = {
  sort: async () => (await import('./commands/sort.js')).sortCommand,
  tune: async () => (await import('./commands/tune.js')).tuneCommand,
  readahead: async () => (await import('./commands/readahead.js')).readaheadCommand,
  map: async () => (await import('./commands/map.js')).mapCommand,
  inspect: async () => (await import('./commands/inspect.js')).inspectCommand,
  cat: async () => (await import('./commands/cat.js')).catCommand,
  verify: async () => (await import('./commands/verify.js')).verifyCommand,
  simulate: async () => (await import('./commands/simulate.js')).simulateCommand,
  report: async () => (await import('./commands/report.js')).reportCommand,
};

interface OptionSpec {
  type?: string;
  array?: boolean;
  nargs?: number;
  default?: unknown;
  choices?: readonly unknown[];
  alias?: string | readonly string[];
  demandOption?: unknown;
}

interface Positional {
  name: string;
  variadic: boolean;
  required: boolean;
}

/** What a builder declared; `unsupported`: it called something this parser does not model. */
interface Declared {
  options: Map<string, OptionSpec>;
  positionalSpecs: Map<string, OptionSpec>;
  conflicts: [string, string][];
  checks: ((args: Record<string, unknown>) => unknown)[];
  unsupported: boolean;
}

/** Builder calls that only shape the help text. */
const HELP_ONLY = new Set(['example', 'usage', 'epilogue', 'epilog', 'describe', 'group', 'wrap']);

function record(builder: AnyCommand['builder']): Declared {
  const declared: Declared = { options: new Map(), positionalSpecs: new Map(), conflicts: [], checks: [], unsupported: false };
  const stand: object = new Proxy(
    {},
    {
      get(_target, key) {
        if (typeof key !== 'string') return undefined;
        if (key === 'then') return undefined; // not a promise
        return (...a: unknown[]) => {
          if (key === 'option' && typeof a[0] === 'string' && typeof a[1] === 'object' && a[1] !== null) declared.options.set(a[0], a[1] as OptionSpec);
          else if (key === 'positional' && typeof a[0] === 'string' && typeof a[1] === 'object' && a[1] !== null) declared.positionalSpecs.set(a[0], a[1] as OptionSpec);
          else if (key === 'conflicts' && typeof a[0] === 'string' && typeof a[1] === 'string') declared.conflicts.push([a[0], a[1]]);
          else if (key === 'check' && typeof a[0] === 'function') declared.checks.push(a[0] as Declared['checks'][number]);
          else if (!HELP_ONLY.has(key)) declared.unsupported = true;
          return stand;
        };
      },
    },
  );
  if (typeof builder === 'function') builder(stand as never);
  else declared.unsupported = true;
  return declared;
}

/** `sort <traces..>` → its positionals; undefined when the spelling is not the plain one. */
function positionalsOf(command: string): Positional[] | undefined {
  const words = command.split(' ').slice(1);
  const out: Positional[] = [];
  for (const word of words) {
    const m = /^([<[])([a-z][a-z0-9-]*)(\.\.)?([>\]])$/.exec(word);
    if (m === null) return undefined;
    out.push({ name: m[2]!, variadic: m[3] !== undefined, required: m[1] === '<' });
  }
  return out;
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/**
 * The command and the arguments yargs would hand its handler, for `argv` (the arguments after
 * the program name); undefined: let yargs parse it.
 */
export async function fastCommand(argv: readonly string[]): Promise<{ command: AnyCommand; args: ArgumentsCamelCase } | undefined> {
  const name = argv[0];
  const load = name !== undefined && Object.hasOwn(COMMAND_LOADERS, name) ? COMMAND_LOADERS[name] : undefined;
  if (name === undefined || load === undefined) return undefined;
  const command = await load();
  const args = parseWith(command, argv.slice(1));
  if (args === undefined) return undefined;
  return { command, args: { ...args, _: [name], $0: 'bootprof' } };
}

/** The handler's arguments for the words after the command name, or undefined (see above). */
export function parseWith(command: AnyCommand, words: readonly string[]): Record<string, unknown> | undefined {
  if (typeof command.command !== 'string' || command.handler === undefined) return undefined;
  const positionals = positionalsOf(command.command);
  if (positionals === undefined) return undefined;
  const declared = record(command.builder);
  if (declared.unsupported) return undefined;
  // every positional must be a declared string (yargs would turn "12" into a number otherwise)
  for (const p of positionals) if (declared.positionalSpecs.get(p.name)?.type !== 'string') return undefined;

  const byFlag = new Map<string, string>();
  for (const [key, spec] of declared.options) {
    if (declared.positionalSpecs.has(key)) return undefined;
    byFlag.set(`--${key}`, key);
    if (spec.type === 'boolean') byFlag.set(`--no-${key}`, key);
    const aliases = spec.alias === undefined ? [] : typeof spec.alias === 'string' ? [spec.alias] : spec.alias;
    for (const alias of aliases) byFlag.set(alias.length === 1 ? `-${alias}` : `--${alias}`, key);
  }

  const given = new Map<string, unknown>();
  const rest: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === '--') {
      rest.push(...words.slice(i + 1));
      break;
    }
    if (word === '-' || !word.startsWith('-')) {
      rest.push(word);
      continue;
    }
    const key = byFlag.get(word);
    if (key === undefined) return undefined; // help, --flag=value, bundled or unknown flags: yargs
    const spec = declared.options.get(key)!;
    let value: unknown;
    if (spec.type === 'boolean') {
      const next = words[i + 1];
      if (next === 'true' || next === 'false') return undefined; // yargs would take it as the value
      value = !word.startsWith('--no-');
    } else {
      const text = words[++i];
      if (text === undefined || (text.startsWith('-') && text !== '-')) return undefined;
      if (spec.type === 'number') {
        if (!NUMBER.test(text)) return undefined;
        value = Number(text);
      } else if (spec.type === 'string' || (spec.type === undefined && spec.choices !== undefined)) {
        value = text;
      } else {
        return undefined;
      }
      if (spec.choices !== undefined && !spec.choices.includes(value)) return undefined;
    }
    if (spec.array === true) {
      if (spec.nargs !== 1 || spec.type === 'boolean') return undefined;
      const list = (given.get(key) as unknown[] | undefined) ?? [];
      list.push(value);
      given.set(key, list);
    } else {
      if (given.has(key)) return undefined; // given twice: yargs makes an array of it
      given.set(key, value);
    }
  }

  const args: Record<string, unknown> = {};
  for (const [key, spec] of declared.options) {
    const value = given.has(key) ? given.get(key) : spec.default;
    if (value === undefined) {
      if (spec.demandOption !== undefined && spec.demandOption !== false) return undefined;
      continue;
    }
    args[key] = Array.isArray(value) ? [...(value as unknown[])] : value;
  }
  let next = 0;
  for (const p of positionals) {
    if (p.variadic) {
      const values = rest.slice(next);
      next = rest.length;
      if (values.length === 0) {
        if (p.required) return undefined;
        continue;
      }
      args[p.name] = values;
    } else {
      const value = rest[next];
      if (value === undefined) {
        if (p.required) return undefined;
        continue;
      }
      next++;
      args[p.name] = value;
    }
  }
  if (next < rest.length) return undefined; // too many: yargs's strict mode says so
  for (const [a, b] of declared.conflicts) if (given.has(a) && given.has(b)) return undefined;
  for (const check of declared.checks) {
    try {
      if (check(args) !== true) return undefined;
    } catch {
      return undefined; // yargs runs the check again and reports it
    }
  }
  return args;
}
