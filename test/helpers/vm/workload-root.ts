import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { cachedDir, fileKey } from './cache.js';

/** Programs the default workload runs, found on the host. */
export const WORKLOAD_PROGRAMS = [
  'bash', 'cat', 'ls', 'sort', 'md5sum', 'sha256sum', 'wc', 'head', 'tail', 'grep', 'sed', 'gzip', 'find', 'tr',
  'cut', 'uniq', 'dd', 'sleep',
];

export interface WorkloadRoot {
  dir: string;
  /** Canonical paths inside the root (as the guest's d_path prints them) the default workload reads. */
  workloadFiles: string[];
  /** Every regular file in the root, canonical. */
  allFiles: string[];
}

const DATA_DIR = '/usr/share/bootprof-data';
/** Read by the workload: a name with the bytes the module must escape (tab, backslash, newline). */
export const ODD_NAME = 'odd\ttab\\back\nline.txt';

/** Deterministic pseudo-random bytes (xorshift), so the image and its cache key do not change. */
function pseudoRandom(length: number, seed: number): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

function words(count: number, seed: number): string {
  const bytes = pseudoRandom(count * 8, seed);
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const len = 3 + ((bytes[i * 8] ?? 0) % 6);
    let w = '';
    for (let j = 0; j < len; j++) w += String.fromCharCode(97 + ((bytes[i * 8 + 1 + (j % 7)] ?? 0) + j * 7) % 26);
    lines.push(w);
  }
  return `${lines.join('\n')}\n`;
}

/** Host paths of a program and the shared libraries ld.so will load for it. */
export async function withLibraries(program: string): Promise<string[]> {
  const { stdout } = await execa('ldd', [program], { reject: false });
  const libs = [...stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]).filter((p): p is string => !!p);
  return [program, ...libs];
}

/** Copy a host file into root at its canonical location, recreating a final symlink if it is one. */
export function copyIntoRoot(root: string, hostPath: string, copied: Set<string>, depth = 0): string {
  if (depth > 8) throw new Error(`symlink chain too long at ${hostPath}`);
  const canonicalDir = realpathSync(dirname(hostPath));
  const inRoot = join(canonicalDir, basename(hostPath));
  if (copied.has(inRoot)) return inRoot;
  copied.add(inRoot);
  mkdirSync(join(root, canonicalDir), { recursive: true });
  if (lstatSync(hostPath).isSymbolicLink()) {
    const target = readlinkSync(hostPath);
    if (!existsSync(join(root, inRoot))) symlinkSync(target, join(root, inRoot));
    return copyIntoRoot(root, resolve(canonicalDir, target), copied, depth + 1);
  }
  copyFileSync(hostPath, join(root, inRoot));
  chmodSync(join(root, inRoot), lstatSync(hostPath).mode & 0o777);
  return inRoot;
}

/** The shell script run inside the root: every line reads files the module and qemu must see. */
export function defaultWorkloadScript(): string {
  return `#!/bin/bash
# bootprof e2e workload: real programs reading real files from the squashfs.
export PATH=/usr/bin:/bin LC_ALL=C
D=${DATA_DIR}
ls -l /usr/bin > /tmp/ls.out
cat $D/text-1.txt $D/text-2.txt | md5sum
sort $D/words.txt | uniq | head -n 3
grep -c a $D/words.txt
sed -n '1,3p' $D/text-3.txt | tr a-z A-Z
gzip -c $D/blob.bin | wc -c
find $D -type f | sort | tail -n 2
sha256sum $D/blob.bin | cut -c1-16
dd if=$D/large.bin of=/dev/null bs=64k 2>/dev/null
cat "$D"/odd* | wc -l
echo workload-ok
`;
}

/**
 * A root filesystem of real Debian binaries and libraries copied from the host, with data files and
 * a /workload.sh, laid out like Debian (merged /usr: /bin -> usr/bin ...).
 */
export async function buildWorkloadRoot(programs = WORKLOAD_PROGRAMS): Promise<WorkloadRoot> {
  const hostPrograms: string[] = [];
  for (const name of programs) {
    const { stdout } = await execa('bash', ['-c', `command -v ${name}`]);
    hostPrograms.push(stdout.trim());
  }
  const closure = new Set<string>();
  for (const program of hostPrograms) for (const p of await withLibraries(program)) closure.add(p);
  const sources = [...closure].sort();
  const script = defaultWorkloadScript();
  const key = { v: 4, files: sources.map(fileKey), script };

  const cache = await cachedDir('root', key, async (tmp) => {
    const root = join(tmp, 'root');
    const copied = new Set<string>();
    for (const dirName of ['usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64', 'etc', 'dev', 'proc', 'sys', 'tmp', 'root', 'run']) {
      mkdirSync(join(root, dirName), { recursive: true });
    }
    for (const [link, target] of [['bin', 'usr/bin'], ['sbin', 'usr/sbin'], ['lib', 'usr/lib'], ['lib64', 'usr/lib64']] as const) {
      symlinkSync(target, join(root, link));
    }
    chmodSync(join(root, 'tmp'), 0o1777);
    for (const source of sources) copyIntoRoot(root, source, copied);
    writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\n');
    writeFileSync(join(root, 'etc/group'), 'root:x:0:\n');
    const data = join(root, DATA_DIR);
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'words.txt'), words(20000, 7));
    for (let i = 1; i <= 3; i++) writeFileSync(join(data, `text-${i}.txt`), words(3000 * i, 100 + i));
    writeFileSync(join(data, 'blob.bin'), pseudoRandom(300 * 1024, 42));
    writeFileSync(join(data, 'large.bin'), Buffer.concat([pseudoRandom(1024 * 1024, 9), Buffer.from(words(100000, 3))]));
    writeFileSync(join(data, 'unused.txt'), words(5000, 99));
    // Incompressible files nobody reads, between the used ones in directory (= image) order: the CD
    // trace must skip them, so it says something about which files the boot needed.
    for (const name of ['a', 'c', 'm', 'u', 'x']) writeFileSync(join(data, `filler-${name}.bin`), pseudoRandom(1536 * 1024, name.charCodeAt(0)));
    // A name with the bytes the events file must escape: tab, newline and backslash.
    writeFileSync(join(data, ODD_NAME), words(100, 5));
    writeFileSync(join(root, 'workload.sh'), script, { mode: 0o755 });
    writeFileSync(join(tmp, 'files.json'), JSON.stringify([...copied].sort()));
  });

  const dir = join(cache, 'root');
  const libsAndPrograms = (JSON.parse(readFileSync(join(cache, 'files.json'), 'utf8')) as string[]).filter(
    (p) => !lstatSync(join(dir, p)).isSymbolicLink(),
  );
  const programPaths = hostPrograms.map((p) => realpathSync(p));
  const libraries = libsAndPrograms.filter((p) => !programPaths.includes(p));
  // bash runs every program; each program maps its libraries; the data files are read.
  const usedPrograms = programPaths.filter((p) => !/\/sleep$/.test(p));
  const workloadFiles = [
    '/workload.sh',
    ...usedPrograms,
    // every library is in the root because one of these programs links it (libc for sleep too)
    ...libraries,
    ...['words.txt', 'text-1.txt', 'text-2.txt', 'text-3.txt', 'blob.bin', 'large.bin', ODD_NAME].map((n) => `${DATA_DIR}/${n}`),
  ];
  return { dir, workloadFiles: [...new Set(workloadFiles)], allFiles: libsAndPrograms };
}
