import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { execa } from 'execa';
import { REPO_ROOT, cachedDir, fileKey } from './cache.js';
import { copyIntoRoot, withLibraries } from './workload-root.js';

/** Where the project sits inside the image. */
export const GUEST_PROJECT_DIR = '/opt/bootprof';

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listSources(path));
    else if (name.endsWith('.ts')) out.push(path);
  }
  return out;
}

/** Production dependency directories (npm's own view), outermost first, nested copies skipped. */
async function productionPackages(): Promise<string[]> {
  const { stdout } = await execa('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: REPO_ROOT, reject: false });
  const dirs = stdout.split('\n').filter((d) => d.startsWith(join(REPO_ROOT, 'node_modules') + sep)).sort();
  return dirs.filter((d, i) => !dirs.slice(0, i).some((outer) => d.startsWith(outer + sep)));
}

/**
 * The workload root plus what running the real `bootprof capture` inside the guest needs: node, the
 * compiled project with its production dependencies, kmod's insmod/rmmod, and bootprof.ko.
 */
export async function buildCliRoot(workloadRoot: string, bootprofKo: string): Promise<string> {
  const sources = listSources(join(REPO_ROOT, 'src'));
  const packages = await productionPackages();
  const hostPrograms = ['/usr/bin/node', '/usr/sbin/insmod', '/usr/sbin/rmmod', '/usr/sbin/lsmod'];
  const closure = new Set<string>();
  for (const p of hostPrograms) for (const q of await withLibraries(p)) closure.add(q);
  const key = {
    v: 1,
    workloadRoot,
    ko: fileKey(bootprofKo),
    sources: sources.map(fileKey),
    lock: fileKey(join(REPO_ROOT, 'package-lock.json')),
    programs: [...closure].sort().map(fileKey),
  };
  const cache = await cachedDir('cliroot', key, async (tmp) => {
    const root = join(tmp, 'root');
    cpSync(workloadRoot, root, { recursive: true, verbatimSymlinks: true });
    const copied = new Set<string>();
    for (const p of [...closure].sort()) copyIntoRoot(root, p, copied);
    const project = join(root, GUEST_PROJECT_DIR);
    mkdirSync(project, { recursive: true });
    // tsc emits even when another part of the tree has type errors; only the output matters here.
    await execa('npx', ['tsc', '-p', 'tsconfig.json', '--outDir', join(project, 'dist'), '--sourceMap', 'false',
      '--declaration', 'false'], { cwd: REPO_ROOT, reject: false });
    if (!existsSync(join(project, 'dist', 'cli', 'main.js'))) throw new Error('tsc did not produce dist/cli/main.js');
    cpSync(join(REPO_ROOT, 'package.json'), join(project, 'package.json'));
    for (const dir of packages) {
      cpSync(dir, join(project, relative(REPO_ROOT, dir)), { recursive: true, verbatimSymlinks: true });
    }
    cpSync(bootprofKo, join(project, 'bootprof.ko'));
  }, 2);
  return join(cache, 'root');
}
