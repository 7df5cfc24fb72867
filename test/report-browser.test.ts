import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import t from 'tap';
import { buildReportWithModel } from '../src/cli/report-pipeline.js';
import { DEVICES } from '../src/sim/devices.js';
import { HOSTILE_NAME, sampleReportInput } from './helpers/report-input.js';

const ARTIFACTS = resolve('test-artifacts');

async function launch(): Promise<{ context: BrowserContext; profileDir: string }> {
  // an empty profile directory per run: nothing from an earlier run or the user's browser
  const profileDir = mkdtempSync(join(tmpdir(), 'bootprof-chromium-'));
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return { context, profileDir };
}

t.test('the report in headless Chromium', async (t) => {
  const dir = t.testdir();
  const { html, model } = buildReportWithModel(sampleReportInput());
  const file = join(dir, 'report.html');
  writeFileSync(file, html);
  const { context, profileDir } = await launch();
  t.teardown(async () => {
    await context.close();
    rmSync(profileDir, { recursive: true, force: true });
  });
  const page = await context.newPage();
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', (d) => {
    problems.push(`a dialog opened: ${d.message()}`);
    void d.dismiss();
  });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
  await page.waitForTimeout(300); // give a would-be onerror handler time to fire

  t.same(problems, [], 'no console errors, no page errors, no dialogs');
  t.same(requests, [pathToFileURL(file).href], 'the page loads nothing but itself');

  // every chart is there and drew something
  const charts = await page.$$eval('svg.chart', (svgs) =>
    svgs.map((s) => {
      const box = s.getBoundingClientRect();
      return {
        kind: s.getAttribute('data-chart'),
        marks: s.querySelectorAll('path, rect, line, circle').length,
        width: box.width,
        height: box.height,
        drawn: Array.from(s.querySelectorAll('path.head, path.cost-line, rect.bar')).filter((e) => {
          const b = (e as unknown as { getBBox(): { width: number; height: number } }).getBBox(); // SVGGraphicsElement (no DOM lib here)
          return b.width > 0 || b.height > 0;
        }).length,
      };
    }),
  );
  const count = (kind: string): number => charts.filter((c) => c.kind === kind).length;
  t.equal(count('head-position'), model.scenarios.length, 'one head-position chart per layout');
  t.equal(count('cumulative-cost'), 1);
  t.equal(count('seek-histogram'), 1);
  t.equal(count('device-bars'), DEVICES.length, 'one comparison chart per device');
  t.equal(count('comparison'), 1, 'release comparison chart');
  for (const c of charts) {
    t.ok(c.width > 100 && c.height > 50, `${c.kind} has a size`);
    t.ok(c.marks > 5, `${c.kind} has elements`);
    t.ok(c.drawn > 0, `${c.kind} drew data marks with a non-empty box`);
  }

  // the hostile name is text, and nothing was injected
  t.equal(await page.locator('img').count(), 0, 'no img element in the DOM');
  t.equal(await page.locator('script:not([type="application/json"])').count(), 0, 'no executable script element');
  const cells = await page.locator('td.path').allTextContents();
  t.ok(cells.includes(HOSTILE_NAME), 'the hostile file name renders as text in the blame table');
  t.match(await page.locator('h1').textContent(), 'Release <b>1</b> & 2', 'the title renders as text');
  t.match(await page.locator('#summary .regression').textContent(), /release-2 <i> is .*% slower/, 'the regression is flagged');

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
  t.pass(`screenshot saved to ${join(ARTIFACTS, 'report.png')}`);
});
