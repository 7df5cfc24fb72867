import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, ToolError, describeSystemError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { waitForStop } from './module.js';

/**
 * In-VM capture without a kernel module (docs/capture-methods.md): a tracefs instance of our own
 * records `filemap/mm_filemap_add_to_page_cache` (dev, ino, page offset of every page-cache fill),
 * `sched/sched_process_exec`, and, where kprobe events are allowed, a kprobe on do_filp_open for the
 * paths opened. Works where an unsigned module cannot load (Secure Boot, lockdown=integrity,
 * module.sig_enforce). integrations/tracefs/bootprof-tracefs-arm does the same from an initramfs:
 * an instance that is already armed is adopted, not re-armed.
 */

export const TRACEFS_TRACE_FILE = 'tracefs-trace.txt';
export const TRACEFS_STATS_FILE = 'tracefs-stats.txt';
export const DEFAULT_INSTANCE = 'bootprof';
const PAGE_CACHE_EVENT = 'events/filemap/mm_filemap_add_to_page_cache';
const EXEC_EVENT = 'events/sched/sched_process_exec';
const KPROBE_GROUP = 'bootprof_open';
const KPROBE = `p:${KPROBE_GROUP}/bootprof_open do_filp_open path=+0(+0($arg2)):string`;
/** Ring-buffer bytes per page-cache fill: the event (about 40 bytes) plus its header, rounded up. */
const ENTRY_BYTES = 64;
const MIN_BUFFER_KB = 8 * 1024;

export interface TracefsCaptureOptions {
  outDir: string;
  /** Per-CPU ring buffer in KiB; default from RAM and CPU count (tracefsBufferKb). */
  bufferKb?: number;
  /** Add the do_filp_open kprobe for open events (default true; lockdown=confidentiality refuses it). */
  kprobes?: boolean;
  durationMs?: number;
  untilFile?: string;
  signal?: AbortSignal;
  /** Leave the instance armed and recording afterwards. */
  keep?: boolean;
  pollMs?: number;
  /** The system, overridable for tests and unusual layouts. */
  tracefsDir?: string;
  instance?: string;
  mountsFile?: string;
  meminfoFile?: string;
  cpus?: number;
  uid?: number;
}

export interface CpuLoss {
  cpu: number;
  entries: number;
  overrun: number;
  commitOverrun: number;
  droppedEvents: number;
}

export interface TracefsCaptureResult {
  tracePath: string;
  statsPath: string;
  perCpu: CpuLoss[];
  /** Events lost on all CPUs: overrun + commit overrun + dropped events. */
  lost: number;
  entries: number;
  armedByUs: boolean;
  bufferKb?: number;
  /** Why there are no open events, when the kprobe could not be added. */
  kprobeError?: string;
  removed: boolean;
  removeError?: string;
  stoppedBy: 'duration' | 'until-file' | 'signal';
}

function isTracefsMounted(dir: string, mountsFile: string): boolean {
  let mounts: string;
  try {
    mounts = readFileSync(mountsFile, 'utf8');
  } catch {
    return existsSync(join(dir, 'instances'));
  }
  const target = dir.replace(/\/+$/, '');
  return mounts.split('\n').some((line) => {
    const [, mountPoint, type] = line.split(' ');
    return type === 'tracefs' && mountPoint === target;
  });
}

/**
 * A per-CPU buffer no boot overflows: a boot cannot fill more pages than RAM holds, so one entry per
 * page of RAM, doubled on each CPU because fills are not spread evenly; the total at most 1/16 of RAM.
 */
export function tracefsBufferKb(memTotalKb: number, cpus: number): number {
  const n = Math.max(1, cpus);
  const perCpu = Math.ceil(((memTotalKb / 4) * ENTRY_BYTES * 2) / n / 1024);
  const cap = Math.floor(memTotalKb / 16 / n);
  return Math.max(Math.min(MIN_BUFFER_KB, cap), Math.min(perCpu, cap));
}

function memTotalKb(meminfoFile: string): number {
  let text: string;
  try {
    text = readFileSync(meminfoFile, 'utf8');
  } catch (err) {
    throw new InputError(`cannot size the trace buffer: ${describeSystemError(meminfoFile, err)}`, { cause: err });
  }
  const m = /^MemTotal:\s+(\d+) kB$/m.exec(text);
  if (m === null) throw new InputError(`${meminfoFile}: no MemTotal line: give --buffer-kb`);
  return Number(m[1]);
}

/** Refuse early, with the reason, before touching tracefs. */
export function checkTracefsEnvironment(options: TracefsCaptureOptions): { dir: string; instanceDir: string; armed: boolean } {
  const uid = options.uid ?? process.getuid?.() ?? 0;
  if (uid !== 0) throw new InputError('capture --method tracefs must run as root: it arms kernel trace events');
  const dir = options.tracefsDir ?? '/sys/kernel/tracing';
  if (!isTracefsMounted(dir, options.mountsFile ?? '/proc/self/mounts')) {
    throw new InputError(`tracefs is not mounted at ${dir}: mount -t tracefs nodev ${dir}`);
  }
  if (!existsSync(join(dir, PAGE_CACHE_EVENT))) {
    throw new InputError(`${join(dir, PAGE_CACHE_EVENT)} is missing: this kernel has no page-cache tracepoint (CONFIG_TRACING)`);
  }
  const instanceDir = join(dir, 'instances', options.instance ?? DEFAULT_INSTANCE);
  const armed = existsSync(join(instanceDir, 'tracing_on')) && readFileSync(join(instanceDir, 'tracing_on'), 'utf8').trim() === '1';
  return { dir, instanceDir, armed };
}

/** Write a control file; a refusal names the file and what the kernel said. */
function write(path: string, value: string, append = false): void {
  try {
    if (append) appendFileSync(path, value);
    else writeFileSync(path, value);
  } catch (err) {
    throw new ToolError(`cannot write ${JSON.stringify(value.trim())} to ${describeSystemError(path, err)}`, { cause: err });
  }
}

/** `key: value` lines of per_cpu/cpuN/stats. */
export function parseCpuStats(cpu: number, text: string): CpuLoss {
  const value = (key: string): number => {
    const m = new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(text);
    return m === null ? 0 : Number(m[1]);
  };
  return {
    cpu,
    entries: value('entries'),
    overrun: value('overrun'),
    commitOverrun: value('commit overrun'),
    droppedEvents: value('dropped events'),
  };
}

function readCpuStats(instanceDir: string): { perCpu: CpuLoss[]; text: string } {
  const perCpuDir = join(instanceDir, 'per_cpu');
  const cpus = existsSync(perCpuDir)
    ? readdirSync(perCpuDir)
        .map((n) => /^cpu(\d+)$/.exec(n))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => Number(m[1]))
        .sort((a, b) => a - b)
    : [];
  const perCpu: CpuLoss[] = [];
  let text = '';
  for (const cpu of cpus) {
    const stats = readFileSync(join(perCpuDir, `cpu${cpu}`, 'stats'), 'utf8');
    perCpu.push(parseCpuStats(cpu, stats));
    text += `cpu${cpu}\n${stats}${stats.endsWith('\n') ? '' : '\n'}`;
  }
  return { perCpu, text };
}

/**
 * Arm tracefs (or adopt the instance an early-boot script armed), wait for a stop trigger, stop,
 * save the log and the per-CPU loss counters atomically into outDir, and remove the instance
 * unless asked to keep it.
 */
export async function captureWithTracefs(options: TracefsCaptureOptions): Promise<TracefsCaptureResult> {
  const { dir, instanceDir, armed } = checkTracefsEnvironment(options);
  let bufferKb: number | undefined;
  let kprobeError: string | undefined;
  if (!armed) {
    bufferKb = options.bufferKb ?? tracefsBufferKb(memTotalKb(options.meminfoFile ?? '/proc/meminfo'), options.cpus ?? onlineCpus(dir));
    if (!(Number.isSafeInteger(bufferKb) && bufferKb > 0)) throw new InputError(`buffer size ${bufferKb} KiB is not a positive integer`);
    if (!existsSync(instanceDir)) {
      try {
        mkdirSync(instanceDir);
      } catch (err) {
        throw new ToolError(`cannot create the tracefs instance ${describeSystemError(instanceDir, err)}`, { cause: err });
      }
    }
    write(join(instanceDir, 'tracing_on'), '0\n');
    write(join(instanceDir, 'options', 'overwrite'), '0\n'); // keep the start of the boot when full
    write(join(instanceDir, 'buffer_size_kb'), `${bufferKb}\n`);
    write(join(instanceDir, 'trace'), '');
    write(join(instanceDir, PAGE_CACHE_EVENT, 'enable'), '1\n');
    if (existsSync(join(instanceDir, EXEC_EVENT))) write(join(instanceDir, EXEC_EVENT, 'enable'), '1\n');
    if (options.kprobes !== false) kprobeError = addOpenKprobe(dir, instanceDir);
    write(join(instanceDir, 'tracing_on'), '1\n');
  }
  mkdirSync(options.outDir, { recursive: true });

  const stoppedBy = await waitForStop(options);
  write(join(instanceDir, 'tracing_on'), '0\n');
  const trace = readFileSync(join(instanceDir, 'trace'));
  const { perCpu, text } = readCpuStats(instanceDir);
  const result: TracefsCaptureResult = {
    tracePath: join(options.outDir, TRACEFS_TRACE_FILE),
    statsPath: join(options.outDir, TRACEFS_STATS_FILE),
    perCpu,
    lost: perCpu.reduce((n, c) => n + c.overrun + c.commitOverrun + c.droppedEvents, 0),
    entries: perCpu.reduce((n, c) => n + c.entries, 0),
    armedByUs: !armed,
    removed: false,
    stoppedBy,
  };
  if (bufferKb !== undefined) result.bufferKb = bufferKb;
  if (kprobeError !== undefined) result.kprobeError = kprobeError;
  writeFileAtomic(result.tracePath, trace);
  writeFileAtomic(result.statsPath, text);

  if (options.keep) {
    write(join(instanceDir, 'tracing_on'), '1\n');
  } else {
    try {
      write(join(instanceDir, 'events', 'enable'), '0\n');
      rmdirSync(instanceDir);
      if (existsSync(join(dir, 'events', KPROBE_GROUP))) appendFileSync(join(dir, 'kprobe_events'), `-:${KPROBE_GROUP}/bootprof_open\n`);
      result.removed = true;
    } catch (err) {
      result.removeError = (err as Error).message;
    }
  }
  return result;
}

/** Adds and enables the open kprobe; returns why not when the kernel refuses (lockdown, no kprobe events). */
function addOpenKprobe(dir: string, instanceDir: string): string | undefined {
  try {
    if (!existsSync(join(dir, 'events', KPROBE_GROUP))) appendFileSync(join(dir, 'kprobe_events'), `${KPROBE}\n`);
    writeFileSync(join(instanceDir, 'events', KPROBE_GROUP, 'enable'), '1\n');
    return undefined;
  } catch (err) {
    return describeSystemError(join(dir, 'kprobe_events'), err);
  }
}

/** CPUs with a ring buffer: the top-level per_cpu directory lists one per possible CPU. */
function onlineCpus(dir: string): number {
  try {
    return Math.max(1, readdirSync(join(dir, 'per_cpu')).filter((n) => /^cpu\d+$/.test(n)).length);
  } catch {
    return 1;
  }
}
