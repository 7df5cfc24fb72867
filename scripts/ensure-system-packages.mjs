#!/usr/bin/env node
// Installs the Debian packages the tests need when run as root; otherwise names what is missing.
// Run by `npm test` (pretest). Exit 0 when everything is present.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const { packages } = JSON.parse(readFileSync(join(here, 'system-packages.json'), 'utf8'));

function present(spec) {
  if (!spec.startsWith('glob:')) return existsSync(spec);
  // only "dir/prefix*suffix[/rest]" patterns are used
  const pattern = spec.slice(5);
  const parts = pattern.split('/');
  const starAt = parts.findIndex((p) => p.includes('*'));
  const dir = parts.slice(0, starAt).join('/') || '/';
  const [pre, post] = parts[starAt].split('*');
  const rest = parts.slice(starAt + 1).join('/');
  if (!existsSync(dir)) return false;
  return readdirSync(dir).some((name) => name.startsWith(pre) && name.endsWith(post) && (rest === '' || existsSync(join(dir, name, rest))));
}

const missing = packages.filter((p) => !p.provides.every(present)).map((p) => p.name);
if (missing.length === 0) process.exit(0);

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || process.env.BOOTPROF_NO_APT === '1') {
  process.stderr.write(
    `${basename(process.argv[1])}: missing Debian packages: ${missing.join(' ')}\n` +
      `Install them as root (apt-get install ${missing.join(' ')}) or run "npm test" as root to install them.\n`,
  );
  process.exit(1);
}
process.stderr.write(`Installing Debian packages: ${missing.join(' ')}\n`);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'inherit', 'inherit'], env });
execFileSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: ['ignore', 'inherit', 'inherit'], env });
const still = packages.filter((p) => !p.provides.every(present)).map((p) => p.name);
if (still.length > 0) {
  process.stderr.write(`Still missing after apt-get install: ${still.join(' ')}\n`);
  process.exit(1);
}
