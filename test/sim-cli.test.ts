import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli.js';
import { syntheticLayout, syntheticTree } from './helpers/synthetic-layout.js';

interface SimJson {
  devices: string[];
  scenarios: { image: string; layout: string; missing: number; devices: Record<string, { seeks: number; farSeeks: number }> }[];
  comparisons: { base: string; other: string; rows: { device: string; change: number; regression: boolean }[] }[];
  regressions: string[];
}

t.test('simulate: far seeks in the table and the JSON; comparisons of a later image', async (t) => {
  const dir = t.testdir();
  const files = syntheticTree(30, 20);
  const v1 = join(dir, 'v1.json');
  const v2 = join(dir, 'v2.json');
  writeFileSync(v1, JSON.stringify(syntheticLayout(files, { blockSize: 131072, ratio: 0.4, source: 'v1.squashfs' })));
  writeFileSync(v2, JSON.stringify(syntheticLayout([...files].reverse(), { blockSize: 131072, ratio: 0.6, source: 'v2.squashfs' })));
  const bootlog = join(dir, 'bootlog.list');
  writeFileSync(bootlog, files.filter((_, i) => i % 13 === 5).map((f) => f.path).join('\n') + '\n');

  const json = runCli(['simulate', '--json', '--image', v1, '--image', v2, '--device', 'cd52-cav', '--device', 'sata-ssd', bootlog]);
  t.equal(json.status, 0, json.stderr);
  const j = JSON.parse(json.stdout) as SimJson;
  t.same(j.devices, ['cd52-cav', 'sata-ssd']);
  t.same(j.scenarios.map((s) => `${s.image}: ${s.layout}`), [
    'v1.json: as is',
    'v1.json: sorted',
    'v1.json: seed recipe',
    'v1.json: layout end',
    'v1.json: random',
    'v2.json: as is',
    'v2.json: sorted',
  ]);
  let far = 0;
  for (const s of j.scenarios) {
    for (const [device, x] of Object.entries(s.devices)) {
      t.ok(Number.isInteger(x.farSeeks) && x.farSeeks >= 0 && x.farSeeks <= x.seeks, `${s.layout} on ${device}: 0 <= far ${x.farSeeks} <= seeks ${x.seeks}`);
      far += x.farSeeks;
    }
  }
  t.ok(far > 0, 'a scattered profile makes far seeks');
  t.same(j.comparisons.map((c) => [c.base, c.other, c.rows.map((r) => r.device)]), [['v1.json', 'v2.json', ['cd52-cav', 'sata-ssd']]]);
  const past = j.comparisons[0]!.rows.filter((r) => r.change > 0.05);
  t.equal(j.regressions.length, past.length, 'a regression for each device past the default 5%');
  t.ok(j.regressions.length > 0, 'release 2 reads more and from further');
  for (const r of j.regressions) t.match(json.stderr, `regression: ${r}`);

  const table = runCli(['simulate', '--image', v1, '--image', v2, '--device', 'cd52-cav', '--device', 'sata-ssd', bootlog]);
  t.equal(table.status, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  const header = lines[0]!.split(/\s{2,}/);
  t.same(header, ['device', 'layout', 'reads', 'MiB', 'seeks', 'far', 'seek MiB', 'seek s', 'rot s', 'xfer s', 'total s', 'bound s']);
  t.equal(lines.length, 1 + 2 * 7, 'header + 2 devices x 7 scenarios');
  // rows: devices in order, then scenarios in order; the far column is the JSON's farSeeks
  const expected = j.devices.flatMap((d) => j.scenarios.map((s) => [d, `${s.image}: ${s.layout}`, s.devices[d]!.seeks, s.devices[d]!.farSeeks]));
  const actual = lines.slice(1).map((line) => {
    const cells = line.split(/\s{2,}/);
    return [cells[0], cells[1], Number(cells[4]), Number(cells[5])];
  });
  t.same(actual, expected);
});
