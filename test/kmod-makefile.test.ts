import t from 'tap';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { findDebianKernel } from './helpers/vm/index.js';

const KMOD = new URL('../kmod', import.meta.url).pathname;

t.test('without a running kernel build dir, the newest headers by version win (6.1.0-57 over 6.1.0-9)', async (t) => {
  const dirs = ['/x/linux-headers-6.1.0-9-amd64', '/x/linux-headers-6.1.0-57-amd64', '/x/linux-headers-6.1.0-10-amd64'];
  const { stdout } = await execa('make', ['-s', '-C', KMOD, 'print-kdir', 'RUNNING_BUILD=', `HEADERS_DIRS=${dirs.join(' ')}`]);
  t.equal(stdout.trim(), '/x/linux-headers-6.1.0-57-amd64');
  const given = await execa('make', ['-s', '-C', KMOD, 'print-kdir', 'KDIR=/y/headers']);
  t.equal(given.stdout.trim(), '/y/headers', 'KDIR= still overrides');
  const none = await execa('make', ['-s', '-C', KMOD, 'print-kdir', 'RUNNING_BUILD=', 'HEADERS_DIRS='], { reject: false });
  t.not(none.exitCode, 0);
  t.match(none.stderr, /no kernel headers found/);
});

t.test('a tracepoint probe of the wrong type is a compile error, not a silent mismatch', async (t) => {
  const kernel = findDebianKernel();
  const dir = join(t.testdir(), 'kmod');
  cpSync(KMOD, dir, { recursive: true, filter: (src) => !/\.(o|ko|mod|cmd|order|symvers)$|\.mod\.c$/.test(src) });
  const probes = join(dir, 'bootprof_probes.c');
  const source = readFileSync(probes, 'utf8');
  const wrong = source.replace('static void fault_probe(void *data, struct folio *folio)', 'static void fault_probe(void *data, struct page *folio)');
  t.not(wrong, source, 'the probe signature was found');
  writeFileSync(probes, wrong);
  const res = await execa('make', ['-C', dir, `KDIR=${kernel.headersDir}`], { reject: false, all: true });
  t.not(res.exitCode, 0);
  t.match(res.all, /register_trace_mm_filemap_add_to_page_cache[^\n]*incompatible-pointer-types|incompatible-pointer-types[^\n]*\n[^\n]*register_trace_mm_filemap/);
});
