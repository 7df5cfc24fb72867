import { mkdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CACHE_ROOT } from './cache.js';

const LOCK = join(CACHE_ROOT, 'qemu.lock');
const STALE_MS = 15 * 60 * 1000;
const WAIT_LIMIT_MS = 30 * 60 * 1000;

/**
 * Run fn while holding a machine-wide lock, so that test files tap runs in parallel never boot two
 * guests at once on the shared 2-core machine. mkdir is atomic; a lock older than 15 min is stale.
 */
export async function withQemuLock<T>(fn: () => Promise<T>): Promise<T> {
  mkdirSync(CACHE_ROOT, { recursive: true });
  const start = Date.now();
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      try {
        if (Date.now() - statSync(LOCK).mtimeMs > STALE_MS) rmdirSync(LOCK);
      } catch {
        // released meanwhile
      }
      if (Date.now() - start > WAIT_LIMIT_MS) throw new Error(`waited 30 min for ${LOCK}`);
      await sleep(250);
    }
  }
  try {
    return await fn();
  } finally {
    rmdirSync(LOCK);
  }
}
