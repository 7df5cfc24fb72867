import t from 'tap';
import { planPriorities } from '../src/emit/priorities.js';
import { escapeMksquashfsPath } from '../src/emit/mksquashfs-sort.js';
import { normalizePath, stripPrefix } from '../src/profile/filters.js';
import { profileFromTraces } from '../src/profile/load.js';
import { resolveRegularFile } from '../src/tree/resolve.js';
import type { TreeNode, TreeView } from '../src/tree/tree-view.js';
import type { Trace } from '../src/trace/types.js';

const trace = (source: string, paths: string[]): Trace => ({
  source,
  format: 'bootlog',
  events: paths.map((path, seq) => ({ kind: 'open', seq, path })),
});

t.test('merging several profiles', (t) => {
  const a = trace('a', ['/1', '/2', '/3', '/4']);
  const b = trace('b', ['/5', '/2', '/6']);
  const opts = { excludes: [], stripPrefixes: [], merge: 'concat' as const };
  t.same(profileFromTraces([a, b], opts).entries.map((e) => e.path), ['/1', '/2', '/3', '/4', '/5', '/6']);
  const inter = profileFromTraces([a, b], { ...opts, merge: 'interleave' });
  // ranks: a = 0, 1/3, 2/3, 1 and b = 0, 1/2, 1; the second /2 is a repeat
  t.same(inter.entries.map((e) => e.path), ['/1', '/5', '/2', '/3', '/4', '/6']);
  t.same(inter.entries.map((e) => e.source), [0, 1, 0, 0, 0, 1]);
  t.equal(inter.repeats, 1);
  t.end();
});

t.test('prefix stripping and normalisation', (t) => {
  t.equal(stripPrefix('/mnt/live/usr/bin/ls', ['/mnt/live']), '/usr/bin/ls');
  t.equal(stripPrefix('/mnt/livecd/x', ['/mnt/live']), '/mnt/livecd/x', 'only at a path boundary');
  t.equal(stripPrefix('/mnt/live', ['/mnt/live/']), '/');
  t.equal(normalizePath('//usr/./bin//ls'), '/usr/bin/ls');
  const p = profileFromTraces([trace('a', ['/mnt/live/etc/x', '/etc/x', '/dev/sda', '/devices/x'])], {
    excludes: ['^/(?:dev|proc|sys|live/distrib)(?:/|$)'],
    stripPrefixes: ['/mnt/live'],
    merge: 'concat',
  });
  t.same(p.entries.map((e) => e.path), ['/etc/x', '/devices/x']);
  t.same(p.dropped.map((d) => d.path), ['/dev/sda']);
  t.end();
});

t.test('priority plans', (t) => {
  const small = planPriorities(3, 'beginning', false);
  t.same(small.priorities, [32767, 32766, 32765]);
  t.same(planPriorities(2, 'end', false).priorities, [-1, -2]);
  const big = planPriorities(40000, 'beginning', false);
  t.equal(big.misplaced, 40000 - 32767);
  t.equal(big.tied, 0);
  const floor = planPriorities(70000, 'beginning', true);
  t.equal(floor.floorPriority, -32768);
  t.equal(floor.priorities[65534], -32767, 'the 65535th file still has its own priority');
  t.equal(floor.tied, 70000 - 65535 + 1);
  t.ok(floor.priorities.every((p) => p > -32768), 'every profiled file stays ahead of the floor');
  const endFloor = planPriorities(40000, 'end', true);
  t.equal(endFloor.floorPriority, 32767);
  t.equal(endFloor.priorities[0], 32766);
  t.end();
});

t.test('escaping for mksquashfs', (t) => {
  t.same(escapeMksquashfsPath('a b\tc\\d'), { ok: true, text: 'a\\ b\\\tc\\\\d' });
  t.same(escapeMksquashfsPath('#x/#y'), { ok: true, text: '\\#x/#y' });
  t.equal(escapeMksquashfsPath('a\nb').ok, false);
  t.equal(escapeMksquashfsPath('x'.repeat(17000)).ok, false);
  t.end();
});

class MapTree implements TreeView {
  readonly name = 'map';
  constructor(private readonly nodes: Record<string, TreeNode>) {}
  lstat(rel: string): TreeNode {
    return rel === '' ? { type: 'dir' } : (this.nodes[rel] ?? { type: 'missing' });
  }
  topLevel(): string[] {
    return Object.keys(this.nodes).filter((k) => !k.includes('/'));
  }
}

t.test('resolution inside a root', (t) => {
  const tree = new MapTree({
    bin: { type: 'symlink', target: 'usr/bin' },
    usr: { type: 'dir' },
    'usr/bin': { type: 'dir' },
    'usr/bin/bash': { type: 'file', id: '1' },
    'usr/bin/sh': { type: 'symlink', target: '/bin/bash' },
    'usr/bin/up': { type: 'symlink', target: '../../../../usr/bin/bash' },
    'usr/bin/self': { type: 'symlink', target: 'self' },
    'usr/bin/null': { type: 'special' },
  });
  t.same(resolveRegularFile(tree, '/bin/bash'), { ok: true, rel: 'usr/bin/bash', id: '1' });
  t.same(resolveRegularFile(tree, '/usr/bin/sh'), { ok: true, rel: 'usr/bin/bash', id: '1' });
  t.same(resolveRegularFile(tree, '/usr/bin/up'), { ok: true, rel: 'usr/bin/bash', id: '1' }, 'symlinks stop at the root');
  t.match(resolveRegularFile(tree, '/../usr/bin/bash'), { ok: false, reason: 'outside-root' });
  t.match(resolveRegularFile(tree, '/usr/bin/self'), { ok: false, reason: 'symlink-loop' });
  t.match(resolveRegularFile(tree, '/usr/bin/null'), { ok: false, reason: 'special' });
  t.match(resolveRegularFile(tree, '/bin'), { ok: false, reason: 'directory' });
  t.match(resolveRegularFile(tree, '/usr/bin/bash/x'), { ok: false, reason: 'missing' });
  t.match(resolveRegularFile(tree, '/'), { ok: false, reason: 'root' });
  t.end();
});

t.test('a gzip-compressed trace reads as what it holds; broken gzip is a typed error', async (t) => {
  const { gzipSync } = await import('node:zlib');
  const { parseTrace } = await import('../src/trace/parse-whole.js');
  const trace = parseTrace(gzipSync(Buffer.from('/etc/a\n/etc/b\n')), 'p.list.gz');
  t.equal(trace.format, 'bootlog');
  t.same(trace.events.map((e) => (e.kind === 'block' ? '' : e.path)), ['/etc/a', '/etc/b']);
  const broken = gzipSync(Buffer.from('/etc/a\n'.repeat(100))).subarray(0, 20);
  t.throws(() => parseTrace(broken, 'cut.gz'), { code: 'EFORMAT', message: /cut\.gz at byte 0: this compressed trace is not valid gzip/ });
});
