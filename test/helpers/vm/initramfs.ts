import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT, cachedDir, fileKey } from './cache.js';
import { buildCpio, type CpioEntry } from './cpio.js';
import type { DebianKernel } from './debian-kernel.js';
import { initScript } from './init-script.js';
import { moduleClosure, readModule } from './kernel-modules.js';

/** Drivers a live CD boot needs from Debian's 6.1 build (all modules there), plus the output disk. */
export const LIVE_MODULES = ['ata_piix', 'ata_generic', 'sr_mod', 'cdrom', 'isofs', 'loop', 'squashfs', 'overlay',
  'virtio_pci', 'virtio_blk'];

/** Host programs copied in with their libraries (blktrace and blkparse from Debian's blktrace package). */
export const INITRAMFS_PROGRAMS = ['/usr/sbin/blktrace', '/usr/bin/blkparse'];

/** The early-boot tracefs scripts the project ships, copied to /tracefs (init-script.ts: bp_tracefs=1). */
export const TRACEFS_SCRIPTS = ['bootprof-tracefs-arm', 'bootprof-tracefs-save'].map((n) => join(REPO_ROOT, 'integrations', 'tracefs', n));

export interface InitramfsOptions {
  kernel: DebianKernel;
  bootprofKo: string;
  withBlktrace?: boolean;
  /** More files for the initramfs: guest path (no leading /) -> host file, installed 0755. */
  extraFiles?: Record<string, string>;
}

async function libraries(program: string): Promise<string[]> {
  const { stdout } = await execa('ldd', [program]);
  return [...stdout.matchAll(/(\/\S+)\s+\(0x/g)].map((m) => m[1]).filter((p): p is string => !!p);
}

/** A gzip cpio initramfs: busybox-static, the live-CD drivers, bootprof.ko and the /init script. */
export async function buildInitramfs(options: InitramfsOptions): Promise<string> {
  const modules = moduleClosure(options.kernel.modulesDir, LIVE_MODULES);
  const programs = options.withBlktrace === false ? [] : INITRAMFS_PROGRAMS;
  const libs = new Set<string>();
  for (const p of programs) for (const lib of await libraries(p)) libs.add(lib);
  const script = initScript();
  const key = {
    v: 1,
    kernel: options.kernel.version,
    modules: modules.map((m) => m.source),
    bootprof: fileKey(options.bootprofKo),
    busybox: fileKey('/usr/bin/busybox'),
    programs: [...programs, ...libs].map(fileKey),
    script,
    ...(options.extraFiles ? { extra: Object.entries(options.extraFiles).map(([guest, host]) => [guest, fileKey(host)]) } : {}),
    tracefs: TRACEFS_SCRIPTS.map(fileKey),
  };
  const dir = await cachedDir('initramfs', key, async (tmp) => {
    const entries: CpioEntry[] = [];
    const dirs = ['bin', 'dev', 'proc', 'sys', 'tmp', 'modules', 'usr', 'usr/bin', 'usr/sbin', 'lib', 'lib64',
      'lib/x86_64-linux-gnu', 'out', 'cdrom', 'sq', 'rw', 'root', 'tracefs'];
    for (const d of dirs) entries.push({ type: 'dir', path: d });
    entries.push({ type: 'chardev', path: 'dev/console', major: 5, minor: 1 });
    entries.push({ type: 'file', path: 'bin/busybox', data: readFileSync('/usr/bin/busybox'), mode: 0o755 });
    entries.push({ type: 'file', path: 'init', data: Buffer.from(script), mode: 0o755 });
    entries.push({ type: 'file', path: 'bootprof.ko', data: readFileSync(options.bootprofKo) });
    for (const p of TRACEFS_SCRIPTS) entries.push({ type: 'file', path: `tracefs/${basename(p)}`, data: readFileSync(p), mode: 0o755 });
    for (const m of modules) entries.push({ type: 'file', path: `modules/${m.name}.ko`, data: await readModule(m.source) });
    entries.push({ type: 'file', path: 'modules/order', data: Buffer.from(`${modules.map((m) => m.name).join('\n')}\n`) });
    for (const p of programs) entries.push({ type: 'file', path: p, data: readFileSync(p), mode: 0o755 });
    for (const [guest, host] of Object.entries(options.extraFiles ?? {})) {
      entries.push({ type: 'file', path: guest, data: readFileSync(host), mode: 0o755 });
    }
    // Libraries go where ldd (and the ELF interpreter path) name them; the initramfs has no merged /usr.
    for (const lib of libs) entries.push({ type: 'file', path: lib, data: readFileSync(realpathSync(lib)), mode: 0o755 });
    writeFileSync(join(tmp, 'initrd.img'), buildCpio(entries));
    writeFileSync(join(tmp, 'modules.txt'), modules.map((m) => m.name).join('\n'));
  });
  return join(dir, 'initrd.img');
}
