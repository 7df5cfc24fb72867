import { accessSync, constants, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, ToolError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { GuestStallWatch, KVM_STALL_MS } from './guest-stall.js';

/** qemu trace events that record every read the guest makes of the CD (docs/formats.md §3). */
export const DEFAULT_TRACE_EVENTS = ['blk_co_preadv', 'ide_atapi_cmd_read*'];

export const QEMU_TRACE_FILE = 'qemu-trace.log';
export const CONSOLE_FILE = 'console.log';
export const QEMU_COMMAND_FILE = 'qemu-command.txt';

export interface ExtraDrive {
  file: string;
  /** Guest interface; virtio needs virtio_pci + virtio_blk in the guest. */
  interface: 'virtio' | 'ide';
  format?: 'raw' | 'qcow2';
}

export interface QemuCaptureOptions {
  iso: string;
  /** Directory receiving qemu-trace.log, console.log and qemu-command.txt. Created if missing. */
  outDir: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  memoryMiB?: number;
  timeoutMs?: number;
  cpus?: number;
  accel?: 'auto' | 'kvm' | 'tcg';
  /** With `accel: 'auto'` under KVM: a guest silent this long is booted again under TCG (guest-stall.ts). */
  kvmStallMs?: number;
  traceEvents?: string[];
  /** Prefix trace lines with `PID@SEC.USEC:` (-msg timestamp=on). */
  timestamps?: boolean;
  extraDrives?: ExtraDrive[];
  qemuBinary?: string;
  signal?: AbortSignal;
  /** Called about twice a second while the guest runs. */
  onProgress?: (progress: QemuProgress) => void;
}

export interface QemuProgress {
  elapsedMs: number;
  consoleBytes: number;
  traceBytes: number;
}

export interface QemuCaptureResult {
  tracePath: string;
  consolePath: string;
  /** How the run ended: the guest powered off (or rebooted with -no-reboot), or we stopped it. */
  endedBy: 'poweroff' | 'timeout' | 'signal';
  exitCode: number | undefined;
  durationMs: number;
  accel: 'kvm' | 'tcg';
  /** Why `--accel auto` gave up KVM and booted under TCG: qemu failed, or the guest stalled. */
  kvmFallback?: 'failed' | 'stalled';
  command: string[];
}

const MAX_MEMORY_MIB = 64 * 1024;
const MAX_TIMEOUT_MS = 24 * 3600 * 1000;

/** Set once a guest stalled under KVM: later `auto` boots of this process go straight to TCG. */
let kvmStalledHere = false;

/** Whether `--accel auto` tries KVM: /dev/kvm opens, and no guest of this process stalled under it. */
export function kvmUsable(): boolean {
  return !kvmStalledHere && kvmDeviceOpen();
}

function kvmDeviceOpen(): boolean {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function requireFile(path: string, what: string): void {
  let ok = false;
  try {
    ok = statSync(path).isFile();
  } catch {
    ok = false;
  }
  if (!ok) throw new InputError(`${what} ${path}: no such file`);
}

/** The qemu command line, without running it; trace and console go to the given paths. */
export function qemuArgs(
  options: QemuCaptureOptions,
  paths: { trace: string; console: string; events: string },
  accel: 'kvm' | 'tcg',
): string[] {
  const memory = options.memoryMiB ?? 512;
  if (!Number.isInteger(memory) || memory < 64 || memory > MAX_MEMORY_MIB) {
    throw new InputError(`--memory ${memory}: give MiB between 64 and ${MAX_MEMORY_MIB}`);
  }
  const cpus = options.cpus ?? 1;
  if (!Number.isInteger(cpus) || cpus < 1 || cpus > 64) throw new InputError(`--cpus ${cpus}: give 1..64`);
  const args = [
    '-machine', 'pc',
    '-accel', accel,
    ...(accel === 'kvm' ? ['-cpu', 'host'] : []),
    '-m', String(memory),
    '-smp', String(cpus),
    '-nodefaults', '-no-user-config', '-display', 'none', '-vga', 'none', '-monitor', 'none',
    '-no-reboot',
    '-serial', `file:${paths.console}`,
    '-cdrom', options.iso,
    '-trace', `events=${paths.events},file=${paths.trace}`,
  ];
  if (options.timestamps) args.push('-msg', 'timestamp=on');
  if (options.kernel !== undefined) {
    args.push('-kernel', options.kernel);
    if (options.initrd !== undefined) args.push('-initrd', options.initrd);
    args.push('-append', options.append ?? 'console=ttyS0');
  } else {
    args.push('-boot', 'd');
  }
  for (const drive of options.extraDrives ?? []) {
    if (drive.file.includes(',')) throw new InputError(`${drive.file}: qemu drive paths cannot contain a comma`);
    args.push('-drive', `file=${drive.file},format=${drive.format ?? 'raw'},if=${drive.interface}`);
  }
  return args;
}

/**
 * Boot an ISO under qemu with block read tracing on, until the guest powers off or the timeout.
 * The trace and console are written under temporary names and renamed at the end, so outDir never
 * holds a half capture under the final names.
 */
export async function captureQemu(options: QemuCaptureOptions): Promise<QemuCaptureResult> {
  requireFile(options.iso, 'ISO');
  if (options.kernel !== undefined) requireFile(options.kernel, 'kernel');
  if (options.initrd !== undefined) requireFile(options.initrd, 'initrd');
  if (options.initrd !== undefined && options.kernel === undefined) {
    throw new InputError('--initrd needs --kernel');
  }
  const timeoutMs = options.timeoutMs ?? 300_000;
  if (!(timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)) throw new InputError(`timeout ${timeoutMs} ms is out of range`);
  for (const name of [options.iso, options.kernel, options.initrd, options.outDir]) {
    if (name?.includes(',')) throw new InputError(`${name}: qemu paths cannot contain a comma`);
  }

  mkdirSync(options.outDir, { recursive: true });
  const stamp = `${process.pid}.${Date.now()}`;
  const paths = {
    trace: join(options.outDir, `.${QEMU_TRACE_FILE}.${stamp}.tmp`),
    console: join(options.outDir, `.${CONSOLE_FILE}.${stamp}.tmp`),
    events: join(options.outDir, `.trace-events.${stamp}.tmp`),
  };
  writeFileAtomic(paths.events, `${(options.traceEvents ?? DEFAULT_TRACE_EVENTS).join('\n')}\n`);

  const wanted = options.accel ?? 'auto';
  let accel: 'kvm' | 'tcg' = wanted === 'auto' ? (kvmUsable() ? 'kvm' : 'tcg') : wanted;
  if (accel === 'kvm' && !kvmDeviceOpen()) throw new InputError('KVM requested but /dev/kvm is not usable');
  const binary = options.qemuBinary ?? 'qemu-system-x86_64';
  const started = Date.now();
  let args = qemuArgs(options, paths, accel);
  const watch = wanted === 'auto' && accel === 'kvm' ? new GuestStallWatch(options.kvmStallMs ?? KVM_STALL_MS) : undefined;
  let { result, stalled } = await runQemu(binary, args, options, paths, timeoutMs, watch);
  // Nested or restricted KVM often opens fine and then fails setting up the vCPU, or runs the
  // firmware and hangs the kernel (guest-stall.ts): either way, boot again under TCG.
  let kvmFallback: QemuCaptureResult['kvmFallback'];
  if (stalled) kvmFallback = 'stalled';
  else if (watch && result.failed && !result.timedOut && !result.isCanceled && sizeOf(paths.console) === 0) kvmFallback = 'failed';
  if (kvmFallback !== undefined) {
    if (kvmFallback === 'stalled') kvmStalledHere = true;
    accel = 'tcg';
    rmSync(paths.trace, { force: true });
    rmSync(paths.console, { force: true });
    args = qemuArgs(options, paths, accel);
    ({ result } = await runQemu(binary, args, options, paths, timeoutMs - (Date.now() - started)));
  }
  const durationMs = Date.now() - started;

  if (result.failed && !result.timedOut && !result.isCanceled) {
    for (const p of Object.values(paths)) rmSync(p, { force: true });
    if ((result as { code?: string }).code === 'ENOENT') throw new ToolError(`${binary} not found: install qemu-system-x86`);
    throw new ToolError(`qemu failed (exit ${result.exitCode}): ${String(result.all ?? '').trim().slice(0, 2000)}`);
  }
  const tracePath = join(options.outDir, QEMU_TRACE_FILE);
  const consolePath = join(options.outDir, CONSOLE_FILE);
  // qemu creates the trace file only when an event fires; an empty one still says "no reads".
  if (!existsSync(paths.trace)) writeFileAtomic(paths.trace, '');
  if (!existsSync(paths.console)) writeFileAtomic(paths.console, '');
  renameSync(paths.trace, tracePath);
  renameSync(paths.console, consolePath);
  rmSync(paths.events, { force: true });
  // Record the command as it would be typed, with the final file names.
  const shown = [binary, ...args].map((a) =>
    a.replace(paths.trace, tracePath).replace(paths.console, consolePath).replace(paths.events, 'trace-events.txt'),
  );
  writeFileAtomic(join(options.outDir, QEMU_COMMAND_FILE), `${shown.map(shellQuote).join(' ')}\n`);

  const endedBy = result.timedOut ? 'timeout' : result.isCanceled ? 'signal' : 'poweroff';
  return { tracePath, consolePath, endedBy, exitCode: result.exitCode, durationMs, accel, ...(kvmFallback ? { kvmFallback } : {}), command: shown };
}

async function runQemu(
  binary: string,
  args: string[],
  options: QemuCaptureOptions,
  paths: { trace: string; console: string },
  timeoutMs: number,
  watch?: GuestStallWatch,
) {
  const { execa } = await import('execa'); // loaded when qemu runs, not at start-up
  const started = Date.now();
  const stop = new AbortController();
  const signals = options.signal ? [options.signal, stop.signal] : [stop.signal];
  let stalled = false;
  const child = execa(binary, args, {
    reject: false,
    stdin: 'ignore',
    timeout: Math.max(1000, timeoutMs),
    killSignal: 'SIGTERM',
    forceKillAfterDelay: 5000,
    cancelSignal: AbortSignal.any(signals),
    all: true,
    maxBuffer: 1024 * 1024,
  });
  const ticker = options.onProgress || watch
    ? setInterval(() => {
        const progress = { elapsedMs: Date.now() - started, consoleBytes: sizeOf(paths.console), traceBytes: sizeOf(paths.trace) };
        options.onProgress?.(progress);
        if (watch?.stalled(progress.elapsedMs, progress.consoleBytes, progress.traceBytes) && !stalled) {
          stalled = true;
          stop.abort();
        }
      }, 500)
    : undefined;
  try {
    const result = await child;
    return { result, stalled };
  } finally {
    if (ticker) clearInterval(ticker);
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
