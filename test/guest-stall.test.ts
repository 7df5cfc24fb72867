import t from 'tap';
import { GuestStallWatch } from '../src/capture/guest-stall.js';

/** Feed (elapsed ms, console bytes, trace bytes) samples; the elapsed time of the first stalled verdict. */
function firstStall(watch: GuestStallWatch, samples: readonly [number, number, number][]): number | undefined {
  for (const [ms, consoleBytes, traceBytes] of samples) if (watch.stalled(ms, consoleBytes, traceBytes)) return ms;
  return undefined;
}

/** A sample every 500 ms up to `untilMs`, console and trace sizes as functions of the time. */
function samples(untilMs: number, consoleAt: (ms: number) => number, traceAt: (ms: number) => number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let ms = 500; ms <= untilMs; ms += 500) out.push([ms, consoleAt(ms), traceAt(ms)]);
  return out;
}

t.test('the hang seen under nested KVM: one trace line from the firmware, then nothing', async (t) => {
  // qemu's own format probe at once, SeaBIOS's boot record read at 2 s, then silence
  const hung = samples(60_000, () => 0, (ms) => (ms < 2000 ? 100 : 400));
  t.equal(firstStall(new GuestStallWatch(20_000), hung), 22_000, 'stalled 20 s after the last trace line');
  t.equal(firstStall(new GuestStallWatch(5_000), hung), 7_000);
});

t.test('a guest that writes to its console is never taken for stalled', async (t) => {
  // prints at 1 s, then stays quiet for minutes (a login prompt, a long fsck)
  const printed = samples(300_000, (ms) => (ms >= 1000 ? 180 : 0), () => 400);
  t.equal(firstStall(new GuestStallWatch(20_000), printed), undefined);
});

t.test('a guest without a serial console that keeps reading the CD is not stalled', async (t) => {
  // a new trace line every 10 s for 5 minutes: each pause is shorter than the window
  const reading = samples(300_000, () => 0, (ms) => 400 + Math.floor(ms / 10_000) * 120);
  t.equal(firstStall(new GuestStallWatch(20_000), reading), undefined);
  // ... until it goes quiet for the whole window
  const quiet = samples(300_000, () => 0, (ms) => 400 + Math.floor(Math.min(ms, 100_000) / 10_000) * 120);
  t.equal(firstStall(new GuestStallWatch(20_000), quiet), 120_000);
});
