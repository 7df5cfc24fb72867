import { execFileSync } from 'node:child_process';

export function mksquashfs(source: string, image: string, args: string[]): void {
  execFileSync('mksquashfs', [source, image, '-noappend', '-no-progress', '-quiet', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** What `rdsquashfs --stat` (squashfs-tools-ng) reports about one inode. */
export interface RdStat {
  inodeType: string;
  inodeNumber: number;
  fragmentIndex?: number;
  fragmentOffset?: number;
  fileSize?: number;
  blocksStart?: number;
  blocks: { size: number; uncompressed: boolean }[];
  hardLinks?: number;
  linkTarget?: string;
  deviceNumber?: string;
}

export function rdStat(image: string, path: string): RdStat {
  const text = execFileSync('rdsquashfs', ['--stat', path, image], { encoding: 'utf8' });
  const field = (name: string): string | undefined => {
    const m = new RegExp(`^${name}: (.*)$`, 'm').exec(text);
    return m?.[1];
  };
  const num = (name: string): number | undefined => {
    const v = field(name);
    return v === undefined ? undefined : Number(v);
  };
  const blocks = [...text.matchAll(/^\tBlock #\d+ size: (\d+) \((compressed|uncompressed)\)$/gm)].map((m) => ({
    size: Number(m[1]),
    uncompressed: m[2] === 'uncompressed',
  }));
  const st: RdStat = { inodeType: field('Inode type') ?? '', inodeNumber: num('Inode number') ?? -1, blocks };
  const optional: [keyof RdStat, string][] = [
    ['fragmentIndex', 'Fragment index'],
    ['fragmentOffset', 'Fragment offset'],
    ['fileSize', 'File size'],
    ['blocksStart', 'Blocks start'],
    ['hardLinks', 'Hard link count'],
  ];
  for (const [key, name] of optional) {
    const v = num(name);
    if (v !== undefined) (st as unknown as Record<string, number>)[key] = v;
  }
  const target = field('Link target');
  if (target !== undefined) st.linkTarget = target;
  const dev = field('Device number');
  if (dev !== undefined) st.deviceNumber = dev;
  return st;
}

/** `rdsquashfs --xattr PATH IMAGE`: name=value lines. */
export function rdXattrs(image: string, path: string): string {
  return execFileSync('rdsquashfs', ['--xattr', path, image], { encoding: 'utf8' });
}
