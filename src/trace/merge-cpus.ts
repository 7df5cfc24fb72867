import type { BlockEvent, Trace, TraceDevice } from './types.js';

/**
 * blktrace writes one file per CPU (`sr0.blktrace.0`, `sr0.blktrace.1`, ...). Given together they
 * are one trace: merge the files of one `<name>.blktrace.` family by time (their clocks are the
 * same: ns since boot), keep every other trace as it is, in the order given.
 */
export function mergeBlktraceCpus(traces: readonly Trace[]): Trace[] {
  const families = new Map<string, Trace[]>();
  const out: (Trace | string)[] = [];
  for (const trace of traces) {
    const m = trace.format === 'blktrace' ? /^(.*\.blktrace)\.\d+$/.exec(trace.source) : null;
    if (m === null) {
      out.push(trace);
      continue;
    }
    const key = m[1]!;
    let family = families.get(key);
    if (family === undefined) {
      families.set(key, (family = []));
      out.push(key);
    }
    family.push(trace);
  }
  return out.map((item) => (typeof item === 'string' ? mergeFamily(item, families.get(item)!) : item));
}

function mergeFamily(name: string, traces: Trace[]): Trace {
  if (traces.length === 1) return traces[0]!;
  const events = traces
    .flatMap((t, file) => t.events.map((e, i) => ({ e: e as BlockEvent, file, i })))
    .sort((a, b) => (a.e.timeNs ?? 0) - (b.e.timeNs ?? 0) || a.file - b.file || a.i - b.i)
    .map(({ e }, seq) => ({ ...e, seq }));
  const devices = new Map<string, TraceDevice>();
  for (const t of traces) for (const d of t.devices ?? []) if (!devices.has(d.id)) devices.set(d.id, d);
  return {
    source: `${name}.* (${traces.length} CPU files)`,
    format: 'blktrace',
    events,
    devices: [...devices.values()],
    notes: traces.flatMap((t) => t.notes ?? []),
  };
}
