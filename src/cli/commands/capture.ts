import type { Argv, CommandModule } from 'yargs';
import { InputError, TimeoutError, UnsupportedError } from '../../errors.js';
import { note, progress, progressDone, UsageError } from '../output.js';
import { emitJson, withJson } from '../options/json.js';
import { GuestStallWatch, KVM_STALL_MS } from '../../capture/guest-stall.js';

interface CaptureArgs {
  out: string;
  qemu: boolean;
  method: string;
  'buffer-kb'?: number;
  module?: string;
  param?: string[];
  duration?: number;
  'until-file'?: string;
  keep: boolean;
  iso?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  memory: number;
  cpus: number;
  timeout: number;
  accel: 'auto' | 'kvm' | 'tcg';
  'trace-event'?: string[];
  timestamps: boolean;
  json: boolean;
}

/** SIGINT/SIGTERM end the capture gracefully (files are still written) instead of killing us. */
function stopSignal(): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

async function captureInVm(args: CaptureArgs): Promise<void> {
  if (args.method === 'tracefs') return captureTracefs(args);
  if (args.method !== 'kmod') throw new UnsupportedError(`--method ${args.method} is not built; use kmod or tracefs`);
  const stop = stopSignal();
  try {
    if (args.duration === undefined && args['until-file'] === undefined && process.stderr.isTTY) {
      note('capturing until Ctrl-C (or give --duration / --until-file)');
    }
    const { captureWithModule } = await import('../../capture/module.js'); // loaded when used, not at start-up
    const result = await captureWithModule({
      outDir: args.out,
      modulePath: args.module,
      moduleParams: args.param,
      durationMs: args.duration === undefined ? undefined : args.duration * 1000,
      untilFile: args['until-file'],
      keep: args.keep,
      signal: stop.signal,
    });
    const s = result.stats;
    note(`logged ${s.logged ?? '?'} events, dropped ${s.dropped ?? '?'}; wrote ${result.eventsPath}, ${result.filesPath}`);
    for (const loss of result.losses) note(loss);
    if (result.unloadError !== undefined) note(`could not unload bootprof: ${result.unloadError}`);
    if (args.json) {
      emitJson({
        command: 'capture',
        method: 'kmod',
        events: result.eventsPath,
        files: result.filesPath,
        stats: result.statsPath,
        counters: result.stats,
        stoppedBy: result.stoppedBy,
        loadedByUs: result.loadedByUs,
        unloaded: result.unloaded,
        ...(result.unloadError !== undefined ? { unloadError: result.unloadError } : {}),
      });
    }
  } finally {
    stop.dispose();
  }
}

async function captureTracefs(args: CaptureArgs): Promise<void> {
  const stop = stopSignal();
  try {
    if (args.duration === undefined && args['until-file'] === undefined && process.stderr.isTTY) {
      note('capturing until Ctrl-C (or give --duration / --until-file)');
    }
    const { captureWithTracefs } = await import('../../capture/tracefs.js'); // loaded when used, not at start-up
    const result = await captureWithTracefs({
      outDir: args.out,
      bufferKb: args['buffer-kb'],
      durationMs: args.duration === undefined ? undefined : args.duration * 1000,
      untilFile: args['until-file'],
      keep: args.keep,
      signal: stop.signal,
    });
    if (!result.armedByUs) note('tracefs instance was already armed (early-boot script): saved it as it was');
    if (result.kprobeError !== undefined) note(`no open events: the do_filp_open kprobe was refused (${result.kprobeError})`);
    const cpus = result.perCpu.map((c) => `cpu${c.cpu} ${c.entries}`).join(', ');
    note(`logged ${result.entries} events (${cpus}), lost ${result.lost}; wrote ${result.tracePath}, ${result.statsPath}`);
    if (result.lost > 0) note('events were lost (per_cpu/cpuN/stats overrun or dropped events): give a larger --buffer-kb');
    if (result.removeError !== undefined) note(`could not remove the tracefs instance: ${result.removeError}`);
  } finally {
    stop.dispose();
  }
}

async function captureUnderQemu(args: CaptureArgs): Promise<void> {
  if (args.iso === undefined) throw new InputError('--qemu needs --iso IMG');
  const stop = stopSignal();
  try {
    const { captureQemu } = await import('../../capture/qemu.js'); // loaded when used, not at start-up
    const kvmWatch = args.accel === 'kvm' ? new GuestStallWatch() : undefined;
    let kvmHinted = false;
    const result = await captureQemu({
      iso: args.iso,
      outDir: args.out,
      kernel: args.kernel,
      initrd: args.initrd,
      append: args.append,
      memoryMiB: args.memory,
      cpus: args.cpus,
      timeoutMs: args.timeout * 1000,
      accel: args.accel,
      traceEvents: args['trace-event'],
      timestamps: args.timestamps,
      signal: stop.signal,
      onProgress: (p) => {
        progress(`qemu ${(p.elapsedMs / 1000).toFixed(0)} s: console ${(p.consoleBytes / 1024).toFixed(0)} KiB, ` +
          `trace ${(p.traceBytes / 1024).toFixed(0)} KiB`);
        // --accel kvm is kept as asked; a silent guest only gets a hint (auto would switch to TCG)
        if (kvmWatch?.stalled(p.elapsedMs, p.consoleBytes, p.traceBytes) && !kvmHinted) {
          kvmHinted = true;
          note(`KVM: the guest has written nothing for ${KVM_STALL_MS / 1000} s; where KVM hangs guests (some nested VMs), --accel auto or tcg boots under TCG`);
        }
      },
    });
    progressDone();
    const how = result.endedBy === 'poweroff' ? 'guest powered off' : result.endedBy === 'timeout' ? 'timed out' : 'stopped';
    if (result.kvmFallback === 'stalled') note(`KVM: the guest wrote nothing for ${KVM_STALL_MS / 1000} s (a nested or restricted KVM); booted again under TCG`);
    else if (result.kvmFallback === 'failed') note('KVM: qemu could not start the guest under it; booted again under TCG');
    note(`${how} after ${(result.durationMs / 1000).toFixed(1)} s (${result.accel}); wrote ${result.tracePath}, ${result.consolePath}`);
    if (args.json) {
      emitJson({
        command: 'capture',
        method: 'qemu',
        trace: result.tracePath,
        console: result.consolePath,
        endedBy: result.endedBy,
        exitCode: result.exitCode ?? null,
        durationMs: result.durationMs,
        accel: result.accel,
        kvmFallback: result.kvmFallback ?? null,
        qemu: result.command,
      });
    }
    if (result.endedBy === 'timeout') {
      throw new TimeoutError(`the guest did not power off within ${args.timeout} s; the trace so far is kept`);
    }
  } finally {
    stop.dispose();
  }
}

export const captureCommand: CommandModule<object, CaptureArgs> = {
  command: 'capture',
  describe: 'Capture a boot trace: with bootprof.ko or tracefs inside the VM, or with --qemu on the host',
  builder: (yargs: Argv) =>
    withJson(yargs, 'Also print what was captured (files, counters, how it ended) as JSON on stdout', false)
      .option('out', { alias: 'o', type: 'string', default: '.', describe: 'Directory for the capture files' })
      .option('qemu', { type: 'boolean', default: false, describe: 'Boot --iso under qemu on the host and record its block reads' })
      .option('method', { choices: ['kmod', 'tracefs'], default: 'kmod', describe: 'In-VM method: kmod (bootprof.ko) or tracefs (no module; works under lockdown)' })
      .option('buffer-kb', { type: 'number', describe: 'tracefs: per-CPU trace buffer in KiB (default sized from RAM so a boot loses nothing)' })
      .option('module', { type: 'string', describe: 'bootprof.ko to load when it is not loaded' })
      .option('param', { type: 'string', array: true, describe: 'Module parameter for insmod (buf_kb=N, fs_types=..., hooks=..., scope=live|all, maxactive=N)' })
      .option('duration', { type: 'number', describe: 'Stop after this many seconds' })
      .option('until-file', { type: 'string', describe: 'Stop once this file exists' })
      .option('keep', { type: 'boolean', default: false, describe: 'Leave the module loaded (and logging)' })
      .option('iso', { type: 'string', describe: '--qemu: the live ISO to boot' })
      .option('kernel', { type: 'string', describe: '--qemu: kernel to boot directly (-kernel)' })
      .option('initrd', { type: 'string', describe: '--qemu: initramfs (-initrd)' })
      .option('append', { type: 'string', describe: '--qemu: kernel command line' })
      .option('memory', { type: 'number', default: 512, describe: '--qemu: guest memory in MiB' })
      .option('cpus', { type: 'number', default: 1, describe: '--qemu: guest CPUs' })
      .option('timeout', { type: 'number', default: 300, describe: '--qemu: seconds before the guest is stopped' })
      .option('accel', { choices: ['auto', 'kvm', 'tcg'] as const, default: 'auto' as const, describe: `--qemu: accelerator (auto: KVM when /dev/kvm opens, TCG when it does not, or when qemu fails or the guest stays silent for ${KVM_STALL_MS / 1000} s under KVM)` })
      .option('trace-event', { type: 'string', array: true, describe: '--qemu: trace event patterns (default blk_co_preadv, ide_atapi_cmd_read*)' })
      .option('timestamps', { type: 'boolean', default: false, describe: '--qemu: prefix trace lines with PID@SEC.USEC' })
      .check((argv) => {
        if (argv.duration !== undefined && !(argv.duration >= 0)) throw new UsageError('--duration must be a number of seconds');
        const kb = argv['buffer-kb'];
        if (kb !== undefined && !(Number.isSafeInteger(kb) && kb > 0)) throw new UsageError('--buffer-kb must be a positive integer');
        if (!(argv.timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds');
        return true;
      }) as unknown as Argv<CaptureArgs>,
  handler: async (args) => {
    if (args.qemu) await captureUnderQemu(args);
    else await captureInVm(args);
  },
};
