import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { execa } from 'execa';

/** A module to put in the initramfs, in load order (dependencies first). */
export interface ModuleFile {
  name: string;
  /** Path under /lib/modules/<ver>/, possibly compressed. */
  source: string;
}

function moduleName(relPath: string): string {
  return basename(relPath).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

/**
 * The named modules and everything they depend on, dependencies first, from modules.dep.
 * Names built into the kernel (modules.builtin) are skipped.
 */
export function moduleClosure(modulesDir: string, names: string[]): ModuleFile[] {
  const deps = new Map<string, { path: string; deps: string[] }>();
  for (const line of readFileSync(join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const path = line.slice(0, colon);
    const rest = line.slice(colon + 1).trim();
    deps.set(moduleName(path), { path, deps: rest === '' ? [] : rest.split(/\s+/).map(moduleName) });
  }
  const builtin = new Set(
    readFileSync(join(modulesDir, 'modules.builtin'), 'utf8').split('\n').filter(Boolean).map(moduleName),
  );
  const order: ModuleFile[] = [];
  const seen = new Set<string>();
  const visit = (name: string, depth: number): void => {
    const key = name.replace(/-/g, '_');
    if (seen.has(key) || builtin.has(key)) return;
    if (depth > 64) throw new Error(`module dependency chain too deep at ${name}`);
    const entry = deps.get(key);
    if (!entry) throw new Error(`module ${name} is neither in modules.dep nor built in`);
    seen.add(key);
    for (const dep of entry.deps) visit(dep, depth + 1);
    order.push({ name: key, source: join(modulesDir, entry.path) });
  };
  for (const name of names) visit(name, 0);
  return order;
}

/** The module's bytes, decompressed when Debian ships it compressed. */
export async function readModule(path: string): Promise<Buffer> {
  if (path.endsWith('.ko')) return readFileSync(path);
  const tool = path.endsWith('.xz') ? 'xz' : path.endsWith('.zst') ? 'zstd' : 'gzip';
  const { stdout } = await execa(tool, ['-dc', path], { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  return Buffer.from(stdout);
}
