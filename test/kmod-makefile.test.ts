import t from 'tap';
import { execa } from 'execa';

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
