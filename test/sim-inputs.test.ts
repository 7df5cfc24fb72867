import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { buildReport } from '../src/cli/report-pipeline.js';
import { loadSimulationInputs } from '../src/sim/inputs.js';
import { fileBytes } from './helpers/sample-tree.js';
import { syntheticLayout } from './helpers/synthetic-layout.js';

const HEADER = '#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath';

t.test('inputs: ranges from the module log, whole files from bootlog.list', async (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  writeFileSync(join(root, 'usr/bin/big'), fileBytes(1, 600_000));
  writeFileSync(join(root, 'usr/bin/small'), fileBytes(2, 5000));
  writeFileSync(join(root, 'usr/bin/other'), fileBytes(3, 7000));
  const image = join(dir, 'img.squashfs');
  execFileSync('mksquashfs', [root, image, '-noappend', '-no-progress', '-quiet', '-b', '131072'], { stdio: 'ignore' });

  const events = join(dir, 'events.tsv');
  const line = (seq: number, kind: string, offset: string, length: string, path: string): string =>
    [seq, 1000 + seq, kind, 1, 'init', '7:0', '-', offset, length, path].join('\t');
  writeFileSync(
    events,
    [
      HEADER,
      line(0, 'open', '-', '-', '/mnt/live/usr/bin/big'),
      line(1, 'read', '131072', '4096', '/mnt/live/usr/bin/big'),
      line(2, 'fault', '0', '4096', '/mnt/live/usr/bin/big'),
      line(3, 'open', '-', '-', '/mnt/live/usr/bin/small'),
      line(4, 'open', '-', '-', '/mnt/live/proc/cmdline'),
    ].join('\n') + '\n',
  );
  const fromEvents = await loadSimulationInputs({ images: [image], traces: [events], stripPrefixes: ['/mnt/live'] });
  t.same(fromEvents.accesses, [
    { path: '/usr/bin/big', offset: 0, length: 4096 },
    { path: '/usr/bin/big', offset: 131072, length: 4096 },
    { path: '/usr/bin/small', offset: 0, length: 0 },
  ], 'read ranges kept, an open without reads costs no data, /proc excluded');
  t.equal(fromEvents.images[0]!.name, 'img.squashfs');
  t.equal(fromEvents.physical.length, 0);

  const bootlog = join(dir, 'bootlog.list');
  writeFileSync(bootlog, '/usr/bin/other\n/usr/bin\n/usr/bin/big\n');
  const fromList = await loadSimulationInputs({ images: [image], traces: [bootlog] });
  t.same(fromList.accesses, [{ path: '/usr/bin/other' }, { path: '/usr/bin/big' }], 'paths only: whole files; directories left out');
  t.same(fromList.touchedPaths, ['/usr/bin/other', '/usr/bin', '/usr/bin/big'], 'the seed recipe sees the directory');

  const html = buildReport({ images: fromEvents.images, accesses: fromEvents.accesses });
  t.match(html, /<svg/);
});

t.test('an empty boot still renders', async (t) => {
  const layout = syntheticLayout([{ path: '/a', size: 10 }]);
  const html = buildReport({ images: [{ name: 'empty', layout }], accesses: [] });
  t.match(html, /data-chart="cumulative-cost"/);
  t.notMatch(html, /NaN/, 'no NaN in the page');
});

t.test('an image manifest (the Layout as JSON) stands in for the image', async (t) => {
  const dir = t.testdir();
  const layout = syntheticLayout([
    { path: '/usr/bin/a', size: 300_000 },
    { path: '/usr/bin/b', size: 9000 },
  ]);
  const manifest = join(dir, 'image.json');
  writeFileSync(manifest, JSON.stringify(layout));
  const bootlog = join(dir, 'bootlog.list');
  writeFileSync(bootlog, '/usr/bin/b\n/usr/bin/a\n');
  const inputs = await loadSimulationInputs({ images: [manifest], traces: [bootlog] });
  t.same(inputs.images[0]!.layout.extents, layout.extents);
  t.same(inputs.accesses, [{ path: '/usr/bin/b' }, { path: '/usr/bin/a' }]);
  await t.rejects(loadSimulationInputs({ images: [join(dir, 'nope.iso')], traces: [bootlog] }), { code: 'EINPUT' });
});
