import type { Boot, BootAccess } from './boots.js';

/**
 * The next boot will not repeat this one's interleaving: systemd starts units in parallel, and
 * which process gets to the drive first changes from boot to boot. We model that by shifting every
 * process's accesses by its own random delay (uniform in ±spread) and re-sorting by time; each
 * process keeps its own order. A layout judged on such replays does not depend on one interleaving.
 */
export function perturbBoot(boot: Boot, random: () => number, spread: number): BootAccess[] {
  if (!boot.timed || spread <= 0) return boot.accesses;
  const accesses = boot.accesses;
  const shift = new Map<number, number>();
  // the shifted times in a typed array and the accesses sorted by index: a boot has thousands
  const t = new Float64Array(accesses.length);
  const order: number[] = [];
  for (let i = 0; i < accesses.length; i++) {
    const a = accesses[i]!;
    let s = shift.get(a.pid);
    if (s === undefined) shift.set(a.pid, (s = (random() * 2 - 1) * spread));
    t[i] = a.time + s;
    order.push(i);
  }
  order.sort((x, y) => t[x]! - t[y]! || x - y);
  return order.map((i) => accesses[i]!);
}

/** Spread of the delays: a fraction of the boot's span, so that it means the same under TCG and on metal. */
export function perturbationSpread(boot: Boot, fraction: number): number {
  if (!boot.timed || boot.accesses.length < 2) return 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const a of boot.accesses) {
    lo = Math.min(lo, a.time);
    hi = Math.max(hi, a.time);
  }
  return (hi - lo) * fraction;
}
