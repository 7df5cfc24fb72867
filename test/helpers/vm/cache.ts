import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CACHE_ROOT = process.env.BOOTPROF_WORK_CACHE ?? join(REPO_ROOT, 'work-cache');

/** A key part naming a file by its content (size + sha256), so edits invalidate the cache. */
export function fileKey(path: string): string {
  const st = statSync(path);
  if (st.size > 512 * 1024 * 1024) return `${path}:${st.size}:${st.mtimeMs}`;
  return `${path}:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
}

/**
 * Build an artefact once per set of inputs: `build` fills a fresh directory, which is renamed into
 * place only when it succeeds, so an interrupted build is never reused.
 */
export async function cachedDir(
  kind: string,
  key: unknown,
  build: (dir: string) => Promise<void>,
  /** Keep only this many entries of the kind (newest first) after a build: for big artefacts. */
  keep?: number,
): Promise<string> {
  const hash = createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
  const dir = join(CACHE_ROOT, `${kind}-${hash}`);
  if (existsSync(join(dir, '.done'))) return dir;
  mkdirSync(CACHE_ROOT, { recursive: true });
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(tmp, { recursive: true });
  try {
    await build(tmp);
    writeFileSync(join(tmp, '.done'), JSON.stringify(key, null, 1));
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  if (keep !== undefined) pruneKind(kind, keep);
  return dir;
}

function pruneKind(kind: string, keep: number): void {
  const entries = readdirSync(CACHE_ROOT)
    .filter((n) => n.startsWith(`${kind}-`) && !n.includes('.tmp-') && existsSync(join(CACHE_ROOT, n, '.done')))
    .map((n) => ({ n, t: statSync(join(CACHE_ROOT, n, '.done')).mtimeMs }))
    .sort((a, b) => b.t - a.t);
  for (const old of entries.slice(keep)) rmSync(join(CACHE_ROOT, old.n), { recursive: true, force: true });
}
