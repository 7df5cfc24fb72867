import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Kernel log lines that mean something went wrong in the kernel (ours or not). */
export const KERNEL_TROUBLE =
  /\bBUG[: ]|WARNING:|\bOops\b|Call Trace|general protection fault|KASAN|UBSAN|possible circular locking|inconsistent lock state|scheduling while atomic|sleeping function called from invalid context|soft lockup|hung_task|refcount_t:/;

export function kernelTrouble(dmesg: string): string[] {
  return dmesg.split('\n').filter((line) => KERNEL_TROUBLE.test(line));
}

export function readGuestFile(guestDir: string, name: string): string {
  const path = join(guestDir, name);
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** `key value` lines of bootprof/stats. */
export function parseStats(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+) (\d+)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = Number(m[2]);
  }
  return out;
}

/** Every stats snapshot in a file where several `cat stats` outputs were appended. */
export function parseStatsSnapshots(text: string): Record<string, number>[] {
  return text
    .split(/(?=^produced )/m)
    .map(parseStats)
    .filter((s) => s.produced !== undefined && s.logged !== undefined && s.dropped !== undefined);
}

export interface ModuleEvent {
  seq: number;
  timeNs: number;
  event: string;
  pid: number;
  comm: string;
  dev: string;
  ino: string;
  offset: string;
  length: string;
  path: string;
}

/** A minimal reading of the events file, for test assertions (the real parser is src/trace). */
export function parseEventsForTest(text: string): { header: string; events: ModuleEvent[]; badLines: string[] } {
  const lines = text.split('\n');
  const header = lines[0] ?? '';
  const events: ModuleEvent[] = [];
  const badLines: string[] = [];
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const c = line.split('\t');
    if (c.length !== 10) {
      badLines.push(line);
      continue;
    }
    const [seq, time, event, pid, comm, dev, ino, offset, length, path] = c as [string, string, string, string, string, string, string, string, string, string];
    events.push({ seq: Number(seq), timeNs: Number(time), event, pid: Number(pid), comm, dev, ino, offset, length, path });
  }
  return { header, events, badLines };
}

export interface QemuRead {
  blk: string;
  offset: number;
  bytes: number;
}

/**
 * The CD's reads in a qemu trace log: blk_co_preadv lines of the BlockBackend whose offsets match the
 * LBAs of ide_atapi_cmd_read lines (the results disk and startup probes have other pointers).
 */
export function cdReadsForTest(trace: string): QemuRead[] {
  const reads: QemuRead[] = [];
  const atapiOffsets = new Set<number>();
  for (const line of trace.split('\n')) {
    const r = /blk_co_preadv blk (0x[0-9a-f]+) bs 0x[0-9a-f]+ offset (\d+) bytes (\d+)/.exec(line);
    if (r?.[1] !== undefined) reads.push({ blk: r[1], offset: Number(r[2]), bytes: Number(r[3]) });
    const a = /ide_atapi_cmd_read .*LBA=(\d+) nb_sectors=(\d+)/.exec(line);
    if (a?.[1] !== undefined) atapiOffsets.add(Number(a[1]) * 2048);
  }
  const votes = new Map<string, number>();
  for (const r of reads) if (atapiOffsets.has(r.offset)) votes.set(r.blk, (votes.get(r.blk) ?? 0) + 1);
  const cd = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  return reads.filter((r) => r.blk === cd);
}

/** Undo the module's escaping of comm and path fields: \\ \t \n. */
export function unescapeForTest(field: string): string {
  return field.replace(/\\(\\|t|n)/g, (_m, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : '\\'));
}
