import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { checkNoFragments, checkSortOrder, parseSortFile } from '../src/image/verify.js';
import { openImage } from '../src/image/open.js';
import { FormatError, UnsupportedError } from '../src/errors.js';
import { renderActionFile } from '../src/emit/action-file.js';
import { escapeMksquashfsPath } from '../src/formats/sort-file.js';
import { noFragmentsPredicate, parseActionFile, quoteActionArgument } from '../src/formats/action-file.js';
import { runCli } from './helpers/cli.js';
import { fileBytes } from './helpers/sample-tree.js';

function mksquashfs(src: string, out: string, extra: string[]): void {
  execFileSync('mksquashfs', [src, out, '-noappend', '-quiet', '-no-progress', '-b', '4096', ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
}

t.test('parseSortFile reads what mksquashfs reads', (t) => {
  const text = '  # comment\n\nusr/bin/bash 32767\nwith\\ space -5\n\\#hash\t+7\nback\\\\slash 0  \ndir/* 3\n';
  const entries = parseSortFile(Buffer.from(text), 'sort');
  t.same(
    entries.map((e) => [e.path, e.priority, e.line]),
    [
      ['usr/bin/bash', 32767, 3],
      ['with space', -5, 4],
      ['#hash', 7, 5],
      ['back\\slash', 0, 6],
      ['dir', 3, 7],
    ],
  );
  t.throws(() => parseSortFile(Buffer.from('a 1\nb\n'), 'sort'), FormatError, 'no priority');
  t.throws(() => parseSortFile(Buffer.from('a 40000\n'), 'sort'), FormatError, 'out of range');
  t.throws(() => parseSortFile(Buffer.from('a 1 x\n'), 'sort'), FormatError, 'trailing characters');
  t.end();
});

t.test('verify: images built with mksquashfs -sort pass, others fail with the offenders', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(join(root, 'odd'), { recursive: true });
  const names = Array.from({ length: 12 }, (_, i) => `f${String(i).padStart(2, '0')}`);
  names.forEach((n, i) => writeFileSync(join(root, n), fileBytes(i + 1, 6000 + ((i * 5) % 12) * 1000)));
  for (const [i, n] of ['with space', '#hash', 'back\\slash'].entries()) writeFileSync(join(root, 'odd', n), fileBytes(50 + i, 7000));
  // Priorities that disagree with the walk order, plus escaped names.
  const lines = names.map((n, i) => `${n} ${(i * 5) % 12}`);
  lines.push('odd/with\\ space 20', 'odd/\\#hash 19', 'odd/back\\\\slash 18', 'odd 1', '# a comment', 'not/there 4');
  const sortFile = join(dir, 'sort.txt');
  writeFileSync(sortFile, lines.join('\n') + '\n');

  const sorted = join(dir, 'sorted.sqfs');
  mksquashfs(root, sorted, ['-no-fragments', '-sort', sortFile]);
  const ok = runCli(['verify', '--image', sorted, '--sort', sortFile]);
  t.equal(ok.status, 0, `sorted image passes: ${ok.stderr}`);
  t.match(ok.stderr, /15 files checked/);
  t.match(ok.stderr, /1 not in the image/);

  const plain = join(dir, 'plain.sqfs');
  mksquashfs(root, plain, ['-no-fragments']);
  const bad = runCli(['verify', '--image', plain, '--sort', sortFile, '--show', '3']);
  t.equal(bad.status, 4, 'unsorted image fails the check: exit 4, not 1 (bad input)');
  t.match(bad.stderr, /does not follow/);
  t.match(bad.stderr, /priority \d+, line \d+, block at \d+\) comes (before|after)/);
  t.match(bad.stderr, /and \d+ more/);

  const json = runCli(['verify', '--json', '--image', plain, '--sort', sortFile]);
  const result = JSON.parse(json.stdout) as { offenders: { file: { path: string } }[]; checked: unknown[] };
  t.ok(result.offenders.length > 0 && result.offenders.length < result.checked.length, 'the fewest offenders, not every file');

  // Small files go to fragments: their order is the fragment order, not the byte position.
  const small = join(dir, 'small');
  mkdirSync(small);
  for (let i = 0; i < 8; i++) writeFileSync(join(small, `s${i}`), fileBytes(80 + i, 500 + i * 100));
  writeFileSync(join(small, 'big'), fileBytes(99, 40_000));
  const smallSort = join(dir, 'small.sort');
  writeFileSync(smallSort, ['s3 100', 'big 90', 's5 80', 's0 70', 's7 60'].join('\n') + '\n');
  const frag = join(dir, 'frag.sqfs');
  mksquashfs(small, frag, ['-sort', smallSort]);
  const f = runCli(['verify', '--image', frag, '--sort', smallSort]);
  t.equal(f.status, 0, `fragments in priority order pass: ${f.stderr}`);
  t.match(f.stderr, /1 by first block, 4 by fragment/);
  const phys = runCli(['verify', '--physical', '--image', frag, '--sort', smallSort]);
  t.equal(phys.status, 4, '--physical: the fragment block lands after the big file');

  const broken = join(dir, 'broken.sort');
  writeFileSync(broken, 'f00 1\nf01\n');
  const br = runCli(['verify', '--image', sorted, '--sort', broken]);
  t.equal(br.status, 1, 'a malformed sort file is bad input: exit 1, not the failed check\'s 4');
  t.match(br.stderr, /line 2/);
  t.end();
});

t.test('checkSortOrder: the fewest offenders, each with a file it contradicts', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(root);
  const names = Array.from({ length: 8 }, (_, i) => `g${i}`);
  names.forEach((n, i) => writeFileSync(join(root, n), fileBytes(200 + i, 9000)));
  // Build with one order, verify against a sort file that moves one file: exactly one offender.
  const built = join(dir, 'built.sort');
  writeFileSync(built, names.map((n, i) => `${n} ${100 - i}`).join('\n') + '\n');
  const img = join(dir, 'img.sqfs');
  mksquashfs(root, img, ['-no-fragments', '-sort', built]);
  const moved = names.map((n, i) => `${n} ${n === 'g6' ? 1000 : 100 - i}`).join('\n') + '\n';
  const image = openImage(img);
  t.teardown(() => image.close());
  const result = checkSortOrder(image.squashfs!, parseSortFile(Buffer.from(moved), 'moved.sort'));
  t.equal(result.checked.length, 8);
  t.same(result.offenders.map((o) => o.file.path), ['/g6'], 'only the moved file is named');
  t.equal(result.offenders[0]!.relation, 'after-lower');
  t.equal(result.offenders[0]!.other.path, '/g5', 'named against the lowest-priority file placed before it');
  const same = checkSortOrder(image.squashfs!, parseSortFile(readFileSync(built), 'built.sort'));
  t.same(same.offenders, [], 'the sort file it was built with passes');
  t.end();
});

t.test('parseActionFile reads what mksquashfs 4.5 reads', (t) => {
  const text = [
    '  # a comment',
    '',
    'no-fragments@pathname("/a b") || name(x\\ y) \\',
    '  && !subpathname(usr)',
    'compressed()@true',
    'fragment(f1)@filesize(<80K)',
  ].join('\n');
  const specs = parseActionFile(Buffer.from(text), 'act');
  t.equal(specs.length, 3);
  t.same(specs[0], {
    action: 'no-fragments',
    args: [],
    line: 3,
    expr: {
      type: 'and',
      lhs: {
        type: 'or',
        lhs: { type: 'test', name: 'pathname', args: ['/a b'] },
        rhs: { type: 'test', name: 'name', args: ['x y'] },
      },
      rhs: { type: 'not', expr: { type: 'test', name: 'subpathname', args: ['/usr'] } },
    },
  }, 'no precedence: left to right; continuation lines joined; pathname gets its leading /');
  t.same(specs[2]!.args, ['f1']);
  const p = noFragmentsPredicate(specs, 'act');
  const file = (path: string): { path: string; type: 'file'; size: number } => ({ path, type: 'file', size: 10 });
  t.ok(p.matches(file('/a b')));
  t.ok(p.matches(file('/opt/x y')));
  t.notOk(p.matches(file('/usr/x y')));
  t.notOk(p.matches({ path: '/a b', type: 'dir', size: 10 }), 'regular files only');
  t.throws(() => parseActionFile(Buffer.from('no-fragments@nosuch(x)\n'), 'act'), /line 1: unknown test/);
  t.throws(() => parseActionFile(Buffer.from('\nbogus@true\n'), 'act'), /line 2: unknown action/);
  t.throws(() => parseActionFile(Buffer.from('no-fragments@(name(a)\n'), 'act'), FormatError);
  t.throws(() => parseActionFile(Buffer.from(`no-fragments@name(${'a'.repeat(17000)})\n`), 'act'), /16384/);
  t.throws(() => noFragmentsPredicate(parseActionFile(Buffer.from('no-fragments@uid(0)\n'), 'act'), 'act'), UnsupportedError);
  t.end();
});

t.test('verify --actions: files marked no-fragments must not be in a fragment block', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  mkdirSync(join(root, 'odd (dir)'), { recursive: true });
  const small = ['usr/lib/a.so', 'usr/lib/b.so', 'usr/lib/skip.so', 'usr/lib/c.txt', 'odd (dir)/with space*', 'odd (dir)/q?[x]', 'odd (dir)/plain'];
  small.forEach((rel, i) => writeFileSync(join(root, rel), fileBytes(300 + i, 900 + i * 77)));
  writeFileSync(join(root, 'usr/lib/big'), fileBytes(399, 20_000));
  const profiled = ['usr/lib/big', 'odd (dir)/with space*', 'usr/lib/a.so', 'odd (dir)/q?[x]', 'usr/lib/c.txt'];
  const sortFile = join(dir, 'sort');
  const sortLines = profiled.map((rel, i) => {
    const e = escapeMksquashfsPath(rel);
    if (!e.ok) throw new Error(e.why);
    return `${e.text} ${100 - i}\n`;
  });
  writeFileSync(sortFile, sortLines.join(''));
  const plan = renderActionFile(
    profiled.filter((rel) => rel !== 'usr/lib/big').map((rel) => ({ rel, path: `/${rel}` })),
    { action: 'no-fragments' },
  );
  const actions = join(dir, 'actions');
  writeFileSync(actions, plan.text);

  const withActions = join(dir, 'with.sqfs');
  mksquashfs(root, withActions, ['-sort', sortFile, '-action-file', actions]);
  const ok = runCli(['verify', '--image', withActions, '--sort', sortFile, '--actions', actions]);
  t.equal(ok.status, 0, `built with the action file: passes\n${ok.stderr}`);
  t.match(ok.stderr, /mark 4 files of the image/);
  t.match(ok.stderr, /none of the 4 no-fragments files is in a fragment block/);

  const without = join(dir, 'without.sqfs');
  mksquashfs(root, without, ['-sort', sortFile]);
  const sortOnly = runCli(['verify', '--image', without, '--sort', sortFile]);
  t.equal(sortOnly.status, 0, 'the order alone still passes');
  const bad = runCli(['verify', '--image', without, '--sort', sortFile, '--actions', actions]);
  t.equal(bad.status, 4, 'built without the action file: fails the check (exit 4)');
  t.match(bad.stderr, /stores 4 of the 4 files .* marks no-fragments in fragment blocks/);
  t.match(bad.stderr, /\/odd \(dir\)\/with space\*: tail in fragment block \d+ at \d+, shared by \d+ files/);
  const json = runCli(['verify', '--json', '--image', without, '--sort', sortFile, '--actions', actions]);
  const parsed = JSON.parse(json.stdout) as { fragments: { offenders: { path: string }[]; marked: string[] } };
  t.same(parsed.fragments.offenders.map((o) => o.path).sort(), profiled.filter((r) => r !== 'usr/lib/big').map((r) => `/${r}`).sort());

  // A hand-written action file with globs and an override: verify's reading of it agrees with
  // what mksquashfs did (the files it left without a fragment are exactly the marked ones).
  // name(q?[x]) is a glob for 3-byte names: it does not match "q?[x]" itself.
  const globs = join(dir, 'globs');
  writeFileSync(globs, '# glob test\nno-fragments@name(*.so) || pathname("odd (dir)/q\\\\?\\\\[x\\\\]") || name(q?[x])\nfragments@pathname(/usr/lib/skip.so)\n');
  const globImg = join(dir, 'globs.sqfs');
  mksquashfs(root, globImg, ['-action-file', globs]);
  const image = openImage(globImg);
  t.teardown(() => image.close());
  const check = checkNoFragments(image.layout, parseActionFile(readFileSync(globs), globs), globs);
  t.same(check.marked.sort(), ['/odd (dir)/q?[x]', '/usr/lib/a.so', '/usr/lib/b.so']);
  t.same(check.offenders, []);
  const unfragmented = image.squashfs!.entries.filter((e) => e.type === 'file' && e.fragment === undefined).map((e) => e.path);
  t.same(unfragmented.sort(), ['/odd (dir)/q?[x]', '/usr/lib/a.so', '/usr/lib/b.so', '/usr/lib/big'], 'mksquashfs agrees');

  const broken = join(dir, 'broken');
  writeFileSync(broken, 'no-fragments@pathname(a) &&\n');
  const br = runCli(['verify', '--image', withActions, '--sort', sortFile, '--actions', broken]);
  t.equal(br.status, 1, 'a malformed action file is bad input (exit 1)');
  t.match(br.stderr, /broken.*line 1/);
  t.end();
});

t.test('verify reads action-file globs as mksquashfs does (fnmatch, FNM_PATHNAME, C locale)', (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(join(root, 'g/sub'), { recursive: true });
  const names = ['abc', 'abd', 'a-c', 'a]c', 'a!c', 'a^c', 'A1c', '.hid', 'x\\y', 'a[b', 'é', 'sub/abc'];
  names.forEach((n, i) => writeFileSync(join(root, 'g', n), fileBytes(500 + i, 300 + i * 11)));
  const all = names.map((n) => `/g/${n}`);
  const tests = [
    'pathname(/g/a?c)',
    'pathname(/g/a[b-c]?)',
    'pathname("/g/a[!b]c")',
    'pathname(/g/a[]]c)',
    'pathname("/g/a[^b-]c")',
    'pathname(g/*)',
    'pathname(/g/*/abc)',
    'pathname(/g/[[:upper:]][[:digit:]]c)',
    'pathname(/g/.*)',
    `pathname(${quoteActionArgument('/g/x\\\\y')})`,
    'pathname(/g/a[b)',
    'pathname(/g/?)',
    'pathname("/g/a[!]]c")',
    'pathname(/g/*[[:punct:]]*)',
    'pathname(/g/??)',
    'name(a?c)',
    'subpathname(/g/s*) && name(abc)',
    '! pathname(/g/a*) && ! subpathname(/g/sub)',
  ];
  for (const [i, test] of tests.entries()) {
    const actions = join(dir, `a${i}`);
    writeFileSync(actions, `no-fragments@${test}\n`);
    const img = join(dir, `i${i}.sqfs`);
    mksquashfs(root, img, ['-action-file', actions]);
    const image = openImage(img);
    const byMksquashfs = image.squashfs!.entries.filter((e) => e.type === 'file' && e.fragment === undefined).map((e) => e.path);
    const p = noFragmentsPredicate(parseActionFile(readFileSync(actions), actions), actions);
    const byVerify = all.filter((path) => p.matches({ path, type: 'file', size: 1 }));
    image.close();
    t.same(byVerify.sort(), byMksquashfs.sort(), `${test}: ${JSON.stringify(byMksquashfs)}`);
  }
  t.end();
});
