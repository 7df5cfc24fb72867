import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Debian's kernel as installed on the host: the image we boot and the headers we build against. */
export interface DebianKernel {
  version: string;
  vmlinuz: string;
  modulesDir: string;
  headersDir: string;
}

/** The newest /boot/vmlinuz-*-amd64 that also has its modules and headers installed. */
export function findDebianKernel(): DebianKernel {
  const versions = readdirSync('/boot')
    .map((name) => /^vmlinuz-(.+-amd64)$/.exec(name)?.[1])
    .filter((v): v is string => v !== undefined)
    .filter((v) => existsSync(`/lib/modules/${v}/modules.dep`) && existsSync(`/usr/src/linux-headers-${v}/Makefile`))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const version = versions.at(-1);
  if (version === undefined) {
    throw new Error('no Debian kernel with modules and headers: apt-get install linux-image-amd64 linux-headers-amd64');
  }
  return {
    version,
    vmlinuz: join('/boot', `vmlinuz-${version}`),
    modulesDir: join('/lib/modules', version),
    headersDir: `/usr/src/linux-headers-${version}`,
  };
}
