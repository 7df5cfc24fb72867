// The fast path (start-up, issue 12) must hand a handler exactly what yargs would, and leave every
// line it does not fully understand to yargs.
import t from 'tap';
import { commands } from '../src/cli/commands/index.js';
import { COMMAND_LOADERS, fastCommand, parseWith } from '../src/cli/fast-path.js';
import { createParser } from '../src/cli/parser.js';

/** The arguments yargs hands the handler of argv's command (the handler itself does not run). */
async function yargsArgs(argv: string[]): Promise<Record<string, unknown>> {
  const command = commands.find((c) => String(c.command).split(' ')[0] === argv[0])!;
  const handler = command.handler;
  let seen: Record<string, unknown> | undefined;
  command.handler = (args: Record<string, unknown>) => {
    seen = args;
  };
  try {
    await createParser(argv).parseAsync();
  } finally {
    command.handler = handler;
  }
  if (seen === undefined) throw new Error(`yargs ran no handler for ${argv.join(' ')}`);
  return seen;
}

t.test('every command but capture can be loaded alone, under its own name', async (t) => {
  for (const command of commands) {
    const name = String(command.command).split(' ')[0]!;
    if (name === 'capture') continue; // its subcommands need yargs
    t.ok(Object.hasOwn(COMMAND_LOADERS, name), `${name} has a loader`);
    t.equal(await COMMAND_LOADERS[name]!(), command, `${name}'s loader gives the command itself`);
  }
});

t.test('plain command lines: the same arguments as yargs', async (t) => {
  const lines = [
    ['sort', 'a.tsv'],
    ['sort', 'a.tsv', 'b.list', '-o', 'out.sort'],
    ['sort', '--root', '/tmp/r', '--order', 'first-access', 'a.tsv', '-o', 'x', '--json'],
    ['sort', '--exclude', 'x', '--exclude', 'y', '--strip-prefix', '/mnt', 'a', '--no-default-excludes', '-v'],
    ['sort', '-', '-o', '-', '--layout', 'end', '--format', 'gensquashfs', '-b', '65536', '--no-block-events'],
    ['sort', '--merge', 'interleave', 'a', '--', '-b', '--x'],
    ['readahead', '--image', 'img.squashfs', 'a.tsv', '-o', 'ra.list'],
    ['readahead', '--image', 'img.squashfs', 'a.tsv', '--ranges', '--on-medium', '-o', 'ra.list'],
    ['inspect', 'img.iso', '--squashfs', '/live/fs.squashfs'],
    ['cat', 'img.iso', '/etc/passwd'],
    ['map', 'a.tsv', '--image', 'x'],
    ['tune', 'a.tsv', '--root', 'r', '--device', 'ssd'],
    ['simulate', 'a.tsv', '--image', 'x', '--image', 'y', '--device', 'ssd', '--seed', '3'],
    ['report', 'a.tsv', '--image', 'x', '-o', 'r.html'],
  ];
  for (const argv of lines) {
    const fast = await fastCommand(argv);
    if (!t.ok(fast, `fast path takes ${argv.join(' ')}`)) continue;
    const expected = await yargsArgs(argv);
    for (const [key, value] of Object.entries(fast!.args)) t.same(value, expected[key], `${argv.join(' ')}: ${key}`);
    // and nothing yargs gives a kebab-case or one-word key is missing
    for (const [key, value] of Object.entries(expected)) {
      if (/^[a-z]+(-[a-z]+)+$|^[a-z]{2,}$/.test(key) && value !== undefined) t.ok(key in fast!.args, `${argv.join(' ')}: has ${key}`);
    }
  }
});

t.test('anything else is left to yargs', async (t) => {
  for (const argv of [
    ['sort'],
    ['sort', '--help'],
    ['sort', 'a', '-h'],
    ['sort', 'a', '--bogus'],
    ['sort', 'a', '--json=true'],
    ['sort', 'a', '--json', 'false'],
    ['sort', 'a', '-o'],
    ['sort', 'a', '-o', '--json'],
    ['sort', 'a', '--merge', 'sideways'],
    ['sort', 'a', '--order', 'first-access', '--order', 'optimized'],
    ['sort', 'a', '--image', 'x', '--root', 'y'],
    ['sort', 'a', '--json'], // its check: --json needs -o FILE
    ['sort', 'a', '-b', 'big'],
    ['sort', 'a', '-Xbcj', 'x86'],
    ['sort', 'a', '-vo', 'x'],
    ['inspect'],
    ['inspect', 'a', 'b'],
    ['capture', 'start'],
    ['completion'],
    ['nonsense', 'a'],
    ['--get-yargs-completions', 'sort'],
  ]) {
    t.equal(await fastCommand(argv), undefined, argv.join(' '));
  }
  t.equal(parseWith({ command: 'x <a>', describe: '', handler: () => {}, builder: (y) => y.positional('a', { type: 'string' }).middleware(() => {}) }, ['v']), undefined,
    'a builder call the fast path does not model');
});
