import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { runCli } from './helpers/cli.js';
import { fileBytes } from './helpers/sample-tree.js';

/** A tree of 240 files in 12 directories; sizes 3-200 KB so files span blocks and fragments. */
function makeTree(root: string): string[] {
  const files: string[] = [];
  for (let d = 0; d < 12; d++) {
    mkdirSync(join(root, `usr/lib/pkg${d}`), { recursive: true });
    for (let f = 0; f < 20; f++) {
      const rel = `usr/lib/pkg${d}/lib${f}.so`;
      writeFileSync(join(root, rel), fileBytes(d * 100 + f + 1, 3000 + ((d * 37 + f * 101) % 50) * 4000));
      files.push(rel);
    }
  }
  const hostile = 'usr/lib/<img src=x onerror=alert(1)>.so';
  writeFileSync(join(root, hostile), fileBytes(9999, 150_000));
  files.push(hostile);
  return files;
}

function mksquashfs(root: string, image: string, extra: string[] = []): void {
  execFileSync('mksquashfs', [root, image, '-noappend', '-no-progress', '-quiet', '-b', '131072', ...extra], { stdio: 'ignore' });
}

t.test('simulate and report on images built by mksquashfs', async (t) => {
  const dir = t.testdir();
  const root = join(dir, 'root');
  mkdirSync(root);
  const files = makeTree(root);
  const v1 = join(dir, 'v1.squashfs');
  const v2 = join(dir, 'v2.squashfs');
  mksquashfs(root, v1);
  // the boot: every 9th file, and the hostile one, in an order unlike the walk order
  const profiled = files.filter((_, i) => i % 9 === 4).reverse();
  profiled.splice(3, 0, files.at(-1)!);
  // release 2: the libraries the boot reads grew by half, so the boot reads half as much again
  const root2 = join(dir, 'root2');
  execFileSync('cp', ['-a', root, root2]);
  profiled.forEach((p, i) => appendFileSync(join(root2, p), fileBytes(5000 + i, Math.ceil(statSync(join(root2, p)).size / 2))));
  mksquashfs(root2, v2);
  const bootlog = join(dir, 'bootlog.list');
  writeFileSync(bootlog, ['/usr', '/usr/lib', ...profiled.map((p) => `/${p}`), '/proc/cmdline'].join('\n') + '\n');

  const sim = runCli(['simulate', '--image', v1, '--json', bootlog]);
  t.equal(sim.status, 0, sim.stderr);
  const json = JSON.parse(sim.stdout) as {
    scenarios: { layout: string; devices: Record<string, { totalMs: number; lowerBoundMs: number; reads: number; seeks: number }> }[];
  };
  t.same(json.scenarios.map((s) => s.layout), ['as is', 'sorted', 'seed recipe', 'layout end', 'random']);
  for (const s of json.scenarios) {
    for (const [device, x] of Object.entries(s.devices)) {
      t.ok(x.reads > 0 && x.lowerBoundMs > 0 && x.lowerBoundMs <= x.totalMs, `${s.layout} on ${device}: 0 < bound <= total`);
    }
  }
  // the model's seek count, not its time estimate: a test asserts no time
  const cd = (layout: string): number => json.scenarios.find((s) => s.layout === layout)!.devices['cd52-cav']!.seeks;
  t.ok(cd('sorted') < cd('as is'), `sorted: ${cd('sorted')} seeks < as is: ${cd('as is')} on a 52x CD`);

  // the prediction against the real thing: mksquashfs rebuilds the tree with our sort file
  const rebuilt = runCli(['simulate', '--image', v1, '--root', root, '--json', bootlog]);
  t.equal(rebuilt.status, 0, rebuilt.stderr);
  const rj = JSON.parse(rebuilt.stdout) as typeof json;
  const rebuiltCd = rj.scenarios.find((s) => s.layout === 'sorted (rebuilt)')!.devices['cd52-cav']!.totalMs;
  const predictedCd = rj.scenarios.find((s) => s.layout === 'sorted')!.devices['cd52-cav']!.totalMs;
  t.ok(
    Math.abs(rebuiltCd - predictedCd) / rebuiltCd < 0.1,
    `predicted sorted layout ${predictedCd.toFixed(0)} ms vs rebuilt ${rebuiltCd.toFixed(0)} ms on a 52x CD (within 10%)`,
  );

  const table = runCli(['simulate', '--image', v1, '--device', 'cd24-clv', '--device', 'sata-ssd', bootlog]);
  t.equal(table.status, 0, table.stderr);
  t.match(table.stdout, /^device\s+layout\s+reads/);
  t.equal(table.stdout.trim().split('\n').length, 1 + 2 * 5, 'header + 2 devices x 5 layouts');

  const out = join(dir, 'report.html');
  const rep = runCli(['report', '--image', v1, '--image', v2, '--fail-on-regression', '-o', out, bootlog]);
  t.equal(rep.status, 3, `a regression exits 3: ${rep.stderr}`);
  t.match(rep.stderr, /regression: v2\.squashfs is .*% slower than v1\.squashfs/);
  t.ok(existsSync(out), 'the report is written even so');
  const page = readFileSync(out, 'utf8');
  t.match(page, /data-chart="comparison"/);
  t.match(page, /&lt;img src=x onerror=alert\(1\)&gt;\.so/, 'the hostile name is escaped');
  t.notMatch(page, /<img/);

  const same = runCli(['report', '--image', v1, '--image', v1, '--fail-on-regression', '-o', out, bootlog]);
  t.equal(same.status, 0, 'the same image twice is no regression');

  const bad = runCli(['report', '--image', v1, '--device', 'floppy', '-o', out, bootlog]);
  t.equal(bad.status, 1);
  t.match(bad.stderr, /unknown device "floppy"/);
  t.equal(bad.stderr.trim().split('\n').length, 2, 'one note and one error line');
});
