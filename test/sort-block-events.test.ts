import { fileURLToPath } from 'node:url';
import t from 'tap';
import { runCli } from './helpers/cli.js';

const fixture = (rel: string): string => fileURLToPath(new URL(`./fixtures/${rel}`, import.meta.url));
const events = fixture('trace/captured/bootprof-events.tsv');
const sameImage = fixture('trace/captured-layout.json');
const otherImage = fileURLToPath(new URL('../profiles/debian-bookworm-live/image-manifest.json.gz', import.meta.url));

t.test('module block reads are mapped through the image they were recorded on', (t) => {
  const res = runCli(['sort', '--image', sameImage, events]);
  t.equal(res.status, 0, res.stderr);
  t.match(res.stdout, /^usr\/bin\/bash -?\d+$/m); // placement is the optimizer's choice
  t.end();
});

t.test('block reads recorded on another image are refused, not mapped to unrelated files', (t) => {
  for (const command of [['sort'], ['readahead']]) {
    const res = runCli([...command, '--image', otherImage, events]);
    t.equal(res.status, 1, `${command[0]}: ${res.stderr}`);
    t.equal(res.stdout, '');
    t.match(res.stderr, /bootprof-events\.tsv: only \d+ of \d+ squashfs block reads start on a block of the image given/);
  }
  const files = runCli(['sort', '--no-block-events', '--image', otherImage, events]);
  t.equal(files.status, 0, files.stderr);
  t.match(files.stderr, /block events not mapped to files \(--no-block-events\)/);
  t.end();
});
