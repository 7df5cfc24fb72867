import { execFileSync } from 'node:child_process';

/** One line of `xorriso -indev X -find / -exec report_lba --`. */
export interface ReportLba {
  extent: number;
  lba: number;
  blocks: number;
  size: number;
  path: string;
}

/** Runs xorriso's report_lba on an ISO: the oracle for our ISO extents. */
export function xorrisoReportLba(iso: string): ReportLba[] {
  const out = execFileSync('xorriso', ['-indev', iso, '-find', '/', '-exec', 'report_lba', '--'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  const rows: ReportLba[] = [];
  for (const line of out.split('\n')) {
    const m = /^File data lba:\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*'(.*)'$/.exec(line);
    if (!m) continue;
    rows.push({ extent: Number(m[1]), lba: Number(m[2]), blocks: Number(m[3]), size: Number(m[4]), path: m[5]!.replace(/'"'"'/g, "'") });
  }
  return rows;
}

/** Builds an ISO from a directory with xorriso; `extra` goes before -map (e.g. ['-joliet', 'on']). */
export function makeIso(srcDir: string, iso: string, extra: string[] = []): void {
  execFileSync('xorriso', ['-outdev', iso, ...extra, '-map', srcDir, '/'], { stdio: ['ignore', 'ignore', 'pipe'] });
}
