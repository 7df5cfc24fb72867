import { existsSync, mkdirSync, openSync, readFileSync, readSync, closeSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { FormatError, InputError, ToolError, describeSystemError } from '../errors.js';
import { parseKmodEvents } from '../trace/kmod-events.js';
import { writeFileAtomic } from '../util/atomic-write.js';

export const EVENTS_FILE = 'bootprof-events.tsv';
export const FILES_FILE = 'bootlog.list';
export const STATS_FILE = 'bootprof-stats.txt';
export const EVENTS_HEADER_PREFIX = '#bootprof-events v1\t';

export interface ModuleCaptureOptions {
  outDir: string;
  /** bootprof.ko to load when the module is not loaded yet. */
  modulePath?: string;
  /** insmod parameters, e.g. ["buf_kb=16384", "fs_types=overlay,squashfs"]. */
  moduleParams?: string[];
  /** Stop after this long. */
  durationMs?: number;
  /** Stop once this file exists (e.g. touched by the last boot service). */
  untilFile?: string;
  /** Stop when aborted (the CLI wires SIGINT/SIGTERM here). */
  signal?: AbortSignal;
  /** Leave the module loaded afterwards. */
  keep?: boolean;
  pollMs?: number;
  /** The system, overridable for unusual layouts. */
  debugfsDir?: string;
  sysModuleDir?: string;
  mountsFile?: string;
  kernelRelease?: string;
  uid?: number;
}

export interface ModuleCaptureResult {
  eventsPath: string;
  filesPath: string;
  statsPath: string;
  stats: Record<string, string>;
  loadedByUs: boolean;
  unloaded: boolean;
  /** Why rmmod failed, when it did (the capture itself is complete). */
  unloadError?: string;
  stoppedBy: 'duration' | 'until-file' | 'signal';
  /** Every loss the module or the log shows (drops, kprobe misses, gaps, bad rows), as sentences. */
  losses: string[];
}

const MAX_WAIT_MS = 7 * 24 * 3600 * 1000;
const VERMAGIC_SCAN_LIMIT = 64 * 1024 * 1024;

/** The `vermagic=` string a .ko carries in its .modinfo section ("6.1.0-56-amd64 SMP preempt ..."). */
export function moduleVermagic(path: string): string {
  let bytes: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      bytes = Buffer.alloc(VERMAGIC_SCAN_LIMIT);
      const n = readSync(fd, bytes, 0, bytes.length, 0);
      bytes = bytes.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw new InputError(`cannot read module ${describeSystemError(path, err)}`, { cause: err });
  }
  if (bytes.length < 4 || bytes.readUInt32BE(0) !== 0x7f454c46) {
    throw new FormatError(path, 0, 'not an ELF kernel module');
  }
  const at = bytes.indexOf('vermagic=');
  if (at < 0) throw new FormatError(path, undefined, 'no vermagic= in .modinfo: not a kernel module');
  const end = bytes.indexOf(0, at);
  if (end < 0 || end - at > 512) throw new FormatError(path, at, 'unterminated vermagic string');
  return bytes.toString('latin1', at + 'vermagic='.length, end).trim();
}

function isDebugfsMounted(dir: string, mountsFile: string): boolean {
  let mounts: string;
  try {
    mounts = readFileSync(mountsFile, 'utf8');
  } catch {
    return existsSync(join(dir, '.')) && existsSync(dir);
  }
  const target = dir.replace(/\/+$/, '');
  return mounts.split('\n').some((line) => {
    const [, mountPoint, type] = line.split(' ');
    return type === 'debugfs' && mountPoint === target;
  });
}

/** Refuse early, with the reason, before touching the kernel. */
export function checkCaptureEnvironment(options: ModuleCaptureOptions): { loaded: boolean } {
  const uid = options.uid ?? process.getuid?.() ?? 0;
  if (uid !== 0) throw new InputError('capture must run as root: it loads a kernel module and reads debugfs');
  const debugfs = options.debugfsDir ?? '/sys/kernel/debug';
  if (!isDebugfsMounted(debugfs, options.mountsFile ?? '/proc/self/mounts')) {
    throw new InputError(`debugfs is not mounted at ${debugfs}: mount -t debugfs none ${debugfs}`);
  }
  const loaded = existsSync(join(options.sysModuleDir ?? '/sys/module', 'bootprof'));
  if (!loaded) {
    if (options.modulePath === undefined) {
      throw new InputError('bootprof.ko is not loaded: give --module PATH (build it with make -C kmod)');
    }
    const kernel = options.kernelRelease ?? release();
    const vermagic = moduleVermagic(options.modulePath);
    const builtFor = vermagic.split(/\s+/)[0] ?? '';
    if (builtFor !== kernel) {
      throw new InputError(
        `${options.modulePath} was built for kernel ${builtFor}, this kernel is ${kernel}: ` +
          `install this kernel's headers (Debian: apt-get install linux-headers-${kernel}) and ` +
          `rebuild with make -C kmod KDIR=/lib/modules/${kernel}/build, ` +
          `or let DKMS build it for every installed kernel (kmod/dkms.conf; kmod/README.md, "DKMS")`,
      );
    }
  }
  return { loaded };
}

/** Resolves when the first stop trigger fires (shared with the tracefs capture). */
export function waitForStop(
  options: Pick<ModuleCaptureOptions, 'durationMs' | 'untilFile' | 'signal' | 'pollMs'>,
): Promise<ModuleCaptureResult['stoppedBy']> {
  const { durationMs, untilFile, signal } = options;
  if (durationMs !== undefined && !(durationMs >= 0 && durationMs <= MAX_WAIT_MS)) {
    throw new InputError(`duration ${durationMs} ms is out of range`);
  }
  const pollMs = Math.max(10, options.pollMs ?? 250);
  return new Promise((resolve) => {
    const timers: NodeJS.Timeout[] = [];
    const done = (why: ModuleCaptureResult['stoppedBy']): void => {
      for (const t of timers) clearTimeout(t);
      signal?.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onAbort = (): void => done('signal');
    if (signal?.aborted) return done('signal');
    signal?.addEventListener('abort', onAbort, { once: true });
    if (durationMs !== undefined) timers.push(setTimeout(() => done('duration'), durationMs));
    if (untilFile !== undefined) {
      const poll = (): void => {
        if (existsSync(untilFile)) done('until-file');
        else timers.push(setTimeout(poll, pollMs));
      };
      poll();
    }
  });
}

function parseStats(text: string): Record<string, string> {
  const stats: Record<string, string> = {};
  for (const line of text.split('\n').slice(0, 1000)) {
    const space = line.indexOf(' ');
    if (space > 0) stats[line.slice(0, space)] = line.slice(space + 1);
  }
  return stats;
}

/**
 * What a capture lost, from the module's counters and from the log itself: events dropped when
 * the log filled (the log keeps the first `logged`), events the kprobe layer missed (more calls
 * pending than maxactive=, or recursion), and gaps or bad rows the events parser found.
 */
export function captureLosses(stats: Record<string, string>, events: Buffer, eventsSource: string): string[] {
  const losses: string[] = [];
  const count = (key: string): bigint => (/^\d{1,20}$/.test(stats[key] ?? '') ? BigInt(stats[key]!) : 0n);
  if (count('dropped') > 0n) {
    losses.push(`${count('dropped')} of ${count('produced')} events dropped when the log filled (it holds the first ` +
      `${count('logged')}): load the module with a larger buf_kb=`);
  }
  if (count('missed') > 0n) {
    losses.push(`${count('missed')} events missed by the kprobe layer (open ${count('missed_open')}, read ` +
      `${count('missed_read')}, sqread ${count('missed_sqread')}): more calls were pending than maxactive=`);
  }
  try {
    for (const n of parseKmodEvents(events, eventsSource).notes ?? []) losses.push(`${eventsSource}: ${n}`);
  } catch (err) {
    if (!(err instanceof FormatError)) throw err;
    losses.push(err.message);
  }
  return losses;
}

/**
 * In-VM capture: load bootprof.ko (or use the loaded one), wait, stop logging, copy the debugfs files
 * atomically into outDir, and unload the module unless asked to keep it.
 */
export async function captureWithModule(options: ModuleCaptureOptions): Promise<ModuleCaptureResult> {
  const { loaded } = checkCaptureEnvironment(options);
  const debugfs = options.debugfsDir ?? '/sys/kernel/debug';
  const dir = join(debugfs, 'bootprof');
  if (!loaded && options.modulePath !== undefined) {
    const { execa } = await import('execa'); // loaded when a tool runs, not at start-up
    const insmod = await execa('insmod', [options.modulePath, ...(options.moduleParams ?? [])], { reject: false, all: true });
    if (insmod.failed) {
      throw new ToolError(`insmod ${options.modulePath} failed: ${String(insmod.all ?? insmod.message).trim()}`);
    }
  }
  if (!existsSync(join(dir, 'events'))) {
    throw new InputError(`${dir}/events is missing: is this bootprof.ko built from this version?`);
  }
  mkdirSync(options.outDir, { recursive: true });

  const stoppedBy = await waitForStop(options);
  writeFileSync(join(dir, 'control'), 'stop\n');
  const events = readFileSync(join(dir, 'events'));
  const files = readFileSync(join(dir, 'files'));
  const statsText = readFileSync(join(dir, 'stats'), 'utf8');
  if (!events.subarray(0, EVENTS_HEADER_PREFIX.length).equals(Buffer.from(EVENTS_HEADER_PREFIX))) {
    throw new FormatError(join(dir, 'events'), 0, 'does not start with the #bootprof-events v1 header');
  }
  const result: ModuleCaptureResult = {
    eventsPath: join(options.outDir, EVENTS_FILE),
    filesPath: join(options.outDir, FILES_FILE),
    statsPath: join(options.outDir, STATS_FILE),
    stats: parseStats(statsText),
    loadedByUs: !loaded,
    unloaded: false,
    stoppedBy,
    losses: [],
  };
  result.losses = captureLosses(result.stats, events, result.eventsPath);
  writeFileAtomic(result.eventsPath, events);
  writeFileAtomic(result.filesPath, files);
  writeFileAtomic(result.statsPath, statsText);

  if (!options.keep) {
    const { execa } = await import('execa');
    const rmmod = await execa('rmmod', ['bootprof'], { reject: false, all: true });
    if (rmmod.failed) result.unloadError = String(rmmod.all ?? rmmod.message).trim();
    else result.unloaded = true;
  } else {
    writeFileSync(join(dir, 'control'), 'start\n');
  }
  return result;
}
