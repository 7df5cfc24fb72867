// The CLI is built by a factory (issue 15.3): tests parse and run it in-process, without dist/.
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { EXIT, EXIT_CODE_HELP } from '../src/errors.js';
import { createParser, run, UsageError, type CliIo } from '../src/cli/parser.js';

const MANIFEST = fileURLToPath(new URL('../profiles/vm-workload/image-manifest.json', import.meta.url));

/** An io that keeps what run() writes. */
function capture(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (s) => void out.push(s), stderr: (s) => void err.push(s), columns: 100 };
}

t.test('createParser parses sort --help in-process: the help text, no handler runs', async (t) => {
  let help = '';
  const args = await createParser(['sort', '--help']).parseAsync(['sort', '--help'], {}, (_err, _argv, output) => {
    help = output;
  });
  t.equal(args.help, true);
  t.match(help, /^bootprof sort <traces\.\.>/);
  for (const option of ['--image', '--root', '--exclude', '--default-excludes', '--strip-prefix', '--merge', '--device', '--block-events', '--output']) {
    t.match(help, new RegExp(`^\\s+(-\\w, )?${option}\\b`, 'm'), `sort --help lists ${option}`);
  }
  t.match(help, /cd52x, cd24x, dvd16x, hdd, usb2, ssd/, '--device names the aliases');
});

t.test('a bad option rejects with a usage error, and run() makes it exit code 2', async (t) => {
  const failed: unknown = await (async () => createParser(['sort', 'x', '--bogus']).parseAsync())().catch((e: unknown) => e);
  t.ok(failed instanceof UsageError, 'yargs validation rejects with a UsageError');
  t.equal((failed as Error).message, 'Unknown argument: bogus');
  const io = capture();
  t.equal(await run(['sort', 'x', '--bogus'], io), EXIT.usage);
  t.match(io.err.join(''), /^bootprof: Unknown argument: bogus\nRun "bootprof --help" for usage\.\n$/);
  t.same(io.out, []);
});

t.test('run(): --help on stdout with exit 0; a lone - reaches the positional; conflicts and repeatables', async (t) => {
  const io = capture();
  t.equal(await run(['--help'], io), EXIT.ok);
  for (const [code, what] of EXIT_CODE_HELP) t.ok(io.out.join('').includes(`${code}  ${what}`), `--help lists ${code}`);

  // repeatable options take one value: a trace after them stays a trace (readahead used to swallow it)
  for (const argv of [
    ['sort', '--exclude', 'x', '--strip-prefix', '/mnt', '/nonexistent/trace'],
    ['readahead', '--image', MANIFEST, '--exclude', 'x', '--strip-prefix', '/mnt', '/nonexistent/trace'],
    ['simulate', '--image', MANIFEST, '--device', 'ssd', '--exclude', 'x', '/nonexistent/trace'],
  ]) {
    const io = capture();
    t.equal(await run(argv, io), EXIT.input, argv.join(' '));
    t.match(io.err.join(''), /^bootprof: \/nonexistent\/trace: no such file or directory\n$/, `${argv[0]}: the trace is read`);
  }

  const both = capture();
  t.equal(await run(['tune', '--image', 'a.iso', '--root', 'r', 'x'], both), EXIT.usage, '--image and --root conflict');
  const neither = capture();
  t.equal(await run(['tune', 'x'], neither), EXIT.usage);
  t.match(neither.err.join(''), /^bootprof: give --image or --root\nRun "bootprof --help" for usage\.\n$/, "a command's check is a usage error, not a bug");
  const noImage = capture();
  t.equal(await run(['simulate', 'x'], noImage), EXIT.usage, 'simulate --image is required (repeatable, no default)');
  t.match(noImage.err.join(''), /Missing required argument: image/);
  const check = capture();
  t.equal(await run(['readahead', '--image', MANIFEST, '--whole-files', 'x'], check), EXIT.usage);
  t.match(check.err.join(''), /^bootprof: --whole-files goes with --ranges\n/);

  const missing = capture();
  t.equal(await run(['inspect', '/nonexistent/image.iso'], missing), EXIT.input, 'a typed error: its own code, one line');
  t.match(missing.err.join(''), /^bootprof: .*image\.iso.*\n$/);
});

t.test('every command that reads profiles shares the same filter options', async (t) => {
  for (const command of ['sort', 'tune', 'readahead', 'simulate', 'report']) {
    let help = '';
    await createParser([]).parseAsync([command, '--help'], {}, (_e, _a, output) => {
      help = output;
    });
    const line = (option: string): string => help.split('\n').find((l) => l.trimStart().startsWith(option)) ?? '';
    t.match(line('--exclude'), /Drop paths matching this regex \(repeatable\)/, `${command} --exclude`);
    t.match(line('--merge'), /Several profiles: concat/, `${command} --merge`);
    t.match(line('--strip-prefix'), /Remove this leading directory from profiled paths/, `${command} --strip-prefix`);
  }
});
