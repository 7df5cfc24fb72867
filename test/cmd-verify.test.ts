import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { checkSortOrder, parseSortFile } from '../src/image/verify.js';
import { openImage } from '../src/image/open.js';
import { FormatError } from '../src/errors.js';
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
  t.equal(bad.status, 1, 'unsorted image fails');
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
  t.equal(phys.status, 1, '--physical: the fragment block lands after the big file');

  const broken = join(dir, 'broken.sort');
  writeFileSync(broken, 'f00 1\nf01\n');
  const br = runCli(['verify', '--image', sorted, '--sort', broken]);
  t.equal(br.status, 1);
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
