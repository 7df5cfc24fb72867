import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { renderSortFile } from '../src/emit/sort-file.js';
import { HostTree } from '../src/tree/host-tree.js';
import { selectRegularFiles } from '../src/profile/select.js';
import { runCli } from './helpers/cli.js';
import { makeSampleRoot } from './helpers/sample-tree.js';

/** Files in the order mksquashfs -info says it wrote them (names with a newline are not used here). */
function writeOrder(root: string, image: string, extra: string[]): string[] {
  const out = execFileSync('mksquashfs', [root, image, '-noappend', '-no-progress', '-info', '-b', '4096', ...extra], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const files: string[] = []; // small trees only: includes() is fine
  const prefix = `${root.replace(/\/+$/, '')}/`;
  for (const line of out.split('\n')) {
    const m = /^file (.*), uncompressed size \d+ bytes/.exec(line);
    if (!m) continue;
    const rel = m[1]!.startsWith(prefix) ? m[1]!.slice(prefix.length) : m[1]!.replace(/^\//, '');
    // one inode, two names: mksquashfs reports whichever name it met first
    const name = rel === 'etc/passwd-hardlink' ? 'etc/passwd' : rel;
    if (!files.includes(name)) files.push(name);
  }
  return files;
}

function stat(image: string, rel: string): { blocksStart: number; blockCount: number; fragment: number; fragmentOffset: number } {
  const out = execFileSync('rdsquashfs', ['--stat', `/${rel}`, image], { encoding: 'utf8' });
  const field = (name: string): number => {
    const m = new RegExp(`^${name}: (\\S+)`, 'm').exec(out);
    if (!m) throw new Error(`rdsquashfs --stat ${rel}: no ${name}`);
    return Number(m[1]);
  };
  return {
    blocksStart: field('Blocks start'),
    blockCount: field('Block count'),
    fragment: field('Fragment index'),
    fragmentOffset: field('Fragment offset'),
  };
}

const profileLines = [
  '/bin/bash',
  '/lib/x86_64-linux-gnu/libtinfo.so.6',
  '/usr/lib/x86_64-linux-gnu/libc-link.so',
  '/etc/init.d',
  '/etc/init.d/rcS',
  '/opt/odd/with space',
  '/opt/odd/#hash',
  '/#top',
  '/opt/odd/back\\slash',
  '/opt/odd/tab\there',
  '/opt/odd/grüße-日本',
  '/usr/bin/sh',
  '/etc/passwd',
  '/etc/passwd-hardlink',
  '/usr/bin/cat',
  '/missing/file',
  '/opt/odd/fifo',
  '/dev/console',
  '/opt/odd/loop-a',
  '/../etc/passwd',
  '/proc/cpuinfo',
  '/usr/bin/ls',
  '/bin/bash',
  '/',
];

const expectedOrder = [
  'usr/bin/bash',
  'usr/lib/x86_64-linux-gnu/libtinfo.so.6',
  'usr/lib/x86_64-linux-gnu/libc.so.6',
  'etc/init.d/rcS',
  'opt/odd/with space',
  'opt/odd/#hash',
  '#top',
  'opt/odd/back\\slash',
  'opt/odd/tab\there',
  'opt/odd/grüße-日本',
  'etc/passwd',
  'usr/bin/cat',
  'usr/bin/ls',
];

t.test('sort --root output is accepted by mksquashfs and the image follows the profile', (t) => {
  const dir = t.testdir({ root: {} });
  const root = join(dir, 'root');
  makeSampleRoot(root);
  const profile = join(dir, 'bootlog.list');
  writeFileSync(profile, profileLines.join('\n') + '\n');

  const res = runCli(['sort', '--root', root, profile]);
  t.equal(res.status, 0, res.stderr);
  t.notMatch(res.stdout, /^\//m, 'no absolute paths');
  t.match(res.stdout, 'opt/odd/with\\ space 32763\n');
  t.match(res.stdout, 'opt/odd/#hash 32762\n');
  t.match(res.stdout, '\n\\#top 32761\n', 'a leading # is escaped, else mksquashfs reads a comment');
  t.match(res.stdout, 'opt/odd/back\\\\slash 32760\n');
  t.match(res.stdout, 'opt/odd/tab\\\there 32759\n');
  t.match(res.stderr, /1 directory/);
  t.match(res.stderr, /1 missing/);
  t.match(res.stderr, /1 special file/);
  t.match(res.stderr, /1 outside the root/);
  t.match(res.stderr, /1 symlink loop/);
  t.match(res.stderr, /2 second names of listed files/);
  t.match(res.stderr, /2 excluded by pattern/);
  t.match(res.stderr, /1 root directory/);
  const sortFile = join(dir, 'distrib.sort');
  writeFileSync(sortFile, res.stdout);

  const image = join(dir, 'sorted.sqfs');
  const order = writeOrder(root, image, ['-sort', sortFile]);
  t.same(order.slice(0, expectedOrder.length), expectedOrder, 'profiled files are written first, in profile order');

  // Independent check on the built image: block starts and fragment positions follow the profile.
  let lastBlock = -1;
  let lastFrag: [number, number] = [-1, -1];
  for (const rel of expectedOrder) {
    const s = stat(image, rel);
    if (s.blockCount > 0) {
      t.ok(s.blocksStart > lastBlock, `${rel} blocks start after the previous profiled file's`);
      lastBlock = s.blocksStart;
    }
    if (s.fragment !== 0xffffffff) {
      const later = s.fragment > lastFrag[0] || (s.fragment === lastFrag[0] && s.fragmentOffset > lastFrag[1]);
      t.ok(later, `${rel} tail comes after the previous profiled tail`);
      lastFrag = [s.fragment, s.fragmentOffset];
    }
  }

  // The unsorted build does not happen to give the same order (so the check above can fail).
  const plain = writeOrder(root, join(dir, 'plain.sqfs'), []);
  t.not(plain.slice(0, expectedOrder.length).join('|'), expectedOrder.join('|'));
  t.end();
});

t.test('--layout end writes the profiled files last, in profile order', (t) => {
  const dir = t.testdir({ root: {} });
  const root = join(dir, 'root');
  makeSampleRoot(root);
  const profile = join(dir, 'bootlog.list');
  writeFileSync(profile, profileLines.join('\n') + '\n');
  const res = runCli(['sort', '--root', root, '--layout', 'end', profile, '-o', join(dir, 'end.sort')]);
  t.equal(res.status, 0, res.stderr);
  t.equal(res.stdout, '', 'with -o nothing goes to stdout');
  t.match(readFileSync(join(dir, 'end.sort'), 'utf8'), /^usr\/bin\/bash -1\n/);
  const order = writeOrder(root, join(dir, 'end.sqfs'), ['-sort', join(dir, 'end.sort')]);
  t.same(order.slice(-expectedOrder.length), expectedOrder);
  t.end();
});

t.test('a name with a newline is reported, never silently dropped', (t) => {
  const dir = t.testdir({ root: {} });
  const root = join(dir, 'root');
  makeSampleRoot(root);
  const entries = ['/opt/odd/new\nline', '/usr/bin/ls'].map((path, order) => ({ path, order, firstSeq: order, source: 0 }));
  const selection = selectRegularFiles(entries, new HostTree(root));
  t.equal(selection.files.length, 2, 'both resolve to regular files');
  const mk = renderSortFile(selection.files, { format: 'mksquashfs', placement: 'beginning' });
  t.equal(mk.text, 'usr/bin/ls 32767\n');
  t.same(mk.dropped.map((d) => [d.path, d.reason]), [['/opt/odd/new\nline', 'unrepresentable']]);
  const iso = renderSortFile(selection.files, { format: 'genisoimage', placement: 'beginning', hostPrefix: root });
  t.equal(iso.text, `${root}/usr/bin/ls 1\n`);
  t.equal(iso.dropped.length, 1);
  t.end();
});

t.test('more than 32767 profiled files: unlisted files are moved behind the whole profile', (t) => {
  const dir = t.testdir({ root: { a: {}, b: {}, c: {} } });
  const root = join(dir, 'root');
  const count = 33000;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    // interleave directories so that the walk order differs from the profile order
    const rel = `${i % 2 === 0 ? 'b' : 'a'}/f${String(count - i).padStart(6, '0')}`;
    writeFileSync(join(root, rel), `${i}\n`);
    lines.push(`/${rel}`);
  }
  for (let i = 0; i < 50; i++) writeFileSync(join(root, 'c', `u${i}`), `unlisted ${i}\n`);
  mkdirSync(join(root, 'a', 'sub'));
  writeFileSync(join(root, 'a', 'sub', 'unlisted'), 'x\n');
  const profile = join(dir, 'big.list');
  writeFileSync(profile, lines.join('\n') + '\n');
  const res = runCli(['sort', '--root', root, profile, '-o', join(dir, 'big.sort')]);
  t.equal(res.status, 0, res.stderr);
  t.match(res.stderr, /other top-level entries get -32768/);
  const sortText = readFileSync(join(dir, 'big.sort'), 'utf8');
  t.match(sortText, /^c -32768$/m);
  const order = writeOrder(root, join(dir, 'big.sqfs'), ['-sort', join(dir, 'big.sort')]);
  t.same(order.slice(0, count), lines.map((l) => l.slice(1)), 'all 33000 profiled files first, in profile order');
  t.equal(order.length, count + 51);
  t.end();
});

t.test('sort --image gives the same sort file as --root, for a bare squashfs and for an ISO holding it', (t) => {
  const dir = t.testdir({ root: {}, iso: { live: {} } });
  const root = join(dir, 'root');
  makeSampleRoot(root);
  const profile = join(dir, 'bootlog.list');
  writeFileSync(profile, profileLines.join('\n') + '\n');
  const image = join(dir, 'iso', 'live', 'filesystem.squashfs');
  execFileSync('mksquashfs', [root, image, '-noappend', '-no-progress', '-quiet']);
  const iso = join(dir, 'live.iso');
  execFileSync('xorriso', ['-as', 'mkisofs', '-R', '-J', '-quiet', '-o', iso, join(dir, 'iso')], { stdio: 'ignore' });

  const fromRoot = runCli(['sort', '--root', root, profile]);
  t.equal(fromRoot.status, 0, fromRoot.stderr);
  for (const img of [image, iso]) {
    const fromImage = runCli(['sort', '--image', img, profile]);
    t.equal(fromImage.status, 0, fromImage.stderr);
    t.equal(fromImage.stdout, fromRoot.stdout, `${img}: same lines as with --root`);
    t.match(fromImage.stderr, /1 directory/);
    t.match(fromImage.stderr, /1 special file/);
    t.match(fromImage.stderr, /2 second names of listed files/);
  }
  t.end();
});
