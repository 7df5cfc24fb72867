import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// kmod/dkms.conf: DKMS builds the module for a given kernel (here the installed Debian headers,
// in a private DKMS tree so the system's is untouched).
const KMOD = fileURLToPath(new URL('../kmod', import.meta.url));
const PKG = JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as { version: string };

t.test('dkms.conf: the version is the package version, and DKMS builds the module for a Debian kernel', (t) => {
  const conf = readFileSync(join(KMOD, 'dkms.conf'), 'utf8');
  t.match(conf, `PACKAGE_VERSION="${PKG.version}"`, 'dkms.conf follows package.json');
  const kernel = readdirSync('/usr/src')
    .map((d) => /^linux-headers-(.*-amd64)$/.exec(d)?.[1])
    .filter((v): v is string => v !== undefined)
    .sort()
    .at(-1);
  if (kernel === undefined) throw new Error('no /usr/src/linux-headers-*-amd64 (npm test installs linux-headers-amd64)');
  const dir = t.testdir();
  const src = join(dir, 'src', `bootprof-${PKG.version}`);
  cpSync(KMOD, src, { recursive: true, filter: (p) => !/\.(o|ko|mod|cmd)$|\.mod\.c$|modules\.order|Module\.symvers/.test(p) });
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  mkdirSync(join(dir, 'inst'));
  execFileSync(
    'dkms',
    ['build', `bootprof/${PKG.version}`, '-k', kernel, '--sourcetree', join(dir, 'src'), '--dkmstree', tree, '--installtree', join(dir, 'inst'), '--kernelsourcedir', `/usr/src/linux-headers-${kernel}`],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const ko = join(tree, 'bootprof', PKG.version, kernel, 'x86_64', 'module', 'bootprof.ko');
  const vermagic = execFileSync('modinfo', ['-F', 'vermagic', ko], { encoding: 'utf8' }).trim();
  t.equal(vermagic.split(/\s+/)[0], kernel, `built for ${kernel}`);
  t.end();
});
