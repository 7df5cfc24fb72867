import type { DropReason, DroppedPath } from './types.js';

const REASON_TEXT: Record<DropReason, [string, string]> = {
  excluded: ['excluded by pattern', 'excluded by pattern'],
  root: ['root directory', 'root directories'],
  directory: ['directory', 'directories'],
  missing: ['missing', 'missing'],
  special: ['special file', 'special files'],
  'outside-root': ['outside the root', 'outside the root'],
  'symlink-loop': ['symlink loop', 'symlink loops'],
  unrepresentable: ['cannot be written', 'cannot be written'],
  'duplicate-inode': ['second name of a listed file', 'second names of listed files'],
};

/** "30 directories, 10 missing" — counts by reason, in a fixed order. */
export function countDrops(dropped: readonly DroppedPath[]): { reason: DropReason; count: number; text: string }[] {
  const counts = new Map<DropReason, number>();
  for (const d of dropped) counts.set(d.reason, (counts.get(d.reason) ?? 0) + 1);
  return (Object.keys(REASON_TEXT) as DropReason[])
    .filter((reason) => counts.has(reason))
    .map((reason) => {
      const count = counts.get(reason)!;
      const [one, many] = REASON_TEXT[reason];
      return { reason, count, text: `${count} ${count === 1 ? one : many}` };
    });
}

export function describeDrop(d: DroppedPath): string {
  const text = REASON_TEXT[d.reason][0];
  return `${JSON.stringify(d.path)}: ${text}${d.detail === undefined ? '' : ` (${d.detail})`}`;
}
