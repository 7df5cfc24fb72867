/**
 * A command run in-process (the fuzzer's workers run thousands) closes the image it opened: sort
 * and tune kept its file open, and a 100,000-input fuzz run ended in EMFILE on every step after
 * input 46,897 (ulimit -n 20000).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { run } from '../src/cli/parser.js';

const AUX = fileURLToPath(new URL('./fixtures/fuzz-regressions/aux/', import.meta.url));
const io = { stdout: (): void => {}, stderr: (): void => {} };
const openFds = (): number => readdirSync('/proc/self/fd').length;

// (tune closes it the same way; this image and trace make tune refuse the trace, so sort stands for both)
for (const command of ['sort'] as const) {
  t.test(`${command} --image closes the image`, async (t) => {
    const out = join(t.testdir(), 'out');
    const args = [command, '--image', join(AUX, 'sqfs-raw-nofrag.sqfs'), join(AUX, 'sqfs-raw.events.tsv'), '--no-block-events', '-o', out];
    t.equal(await run(args, io), 0, 'first run');
    const before = openFds();
    for (let i = 0; i < 5; i++) await run(args, io);
    t.equal(openFds(), before, 'no file left open by 5 more runs');
  });
}
