import t from 'tap';
import { escapeHtml, escapeJson, html, trustedMarkup } from '../src/report/html.js';
import { buildReportWithModel } from '../src/cli/report-pipeline.js';
import { HOSTILE_NAME, sampleReportInput } from './helpers/report-input.js';

t.test('the template tag escapes by default', async (t) => {
  const name = '<img src=x onerror=alert(1)>.so';
  t.equal(html`<td>${name}</td>`.value, '<td>&lt;img src=x onerror=alert(1)&gt;.so</td>');
  t.equal(html`<a title="${'"><b>'}">`.value, '<a title="&quot;&gt;&lt;b&gt;">');
  t.equal(html`<ul>${['<a>', html`<li>${'&'}</li>`]}</ul>`.value, '<ul>&lt;a&gt;<li>&amp;</li></ul>', 'arrays: strings escaped, SafeHtml kept');
  t.equal(html`${null}${undefined}${false}${0}`.value, '0');
  t.equal(html`${trustedMarkup('<svg></svg>')}`.value, '<svg></svg>');
  t.equal(escapeHtml(`'`), '&#39;');
});

t.test('embedded JSON cannot close its script element', async (t) => {
  const text = escapeJson({ path: '</script><script>alert(1)</script><!--', sep: '\u2028' });
  t.notMatch(text, /</);
  t.notMatch(text, /\u2028/);
  t.same(JSON.parse(text), { path: '</script><script>alert(1)</script><!--', sep: '\u2028' });
});

t.test('a whole report: names escaped everywhere, no script, no external reference', async (t) => {
  const { html: page, model } = buildReportWithModel(sampleReportInput());
  t.notMatch(page, /<img/i, 'no img element anywhere');
  t.notMatch(page, /<script(?! type="application\/json" id="bootprof-data">)/, 'the only script element is the JSON data block');
  t.notMatch(page, /<i>/, 'image names are escaped');
  t.notMatch(page, /<b>1<\/b>/, 'the title is escaped');
  t.match(page, HOSTILE_NAME.replace('<', '&lt;').replace('>', '&gt;'), 'the hostile file name is shown, as text');
  t.notMatch(page, /(src|href)\s*=\s*["']?(https?:|\/\/)/i, 'nothing loaded from the network');
  t.match(page, /Content-Security-Policy" content="default-src 'none'/);
  const data = /<script type="application\/json" id="bootprof-data">([^<]*)<\/script>/.exec(page);
  t.ok(data, 'data block present');
  const parsed = JSON.parse(data![1]!) as { scenarios: { layout: string }[] };
  t.same(parsed.scenarios.map((s) => s.layout), model.scenarios.map((s) => s.layout));
  t.ok(model.regressions.length > 0, 'the worse release is flagged');
  t.match(model.regressions[0]!, /release-2 <i> is .*% slower than release-1/);
});
