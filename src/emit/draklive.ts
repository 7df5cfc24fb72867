/**
 * The seed's exact output, for users with scripts built around it:
 *   perl -MMDK::Common -e 'print map_index { (32767 - $::i) . " $_" }
 *     grep { !m,^/(?:dev|proc|sys|live/distrib), } uniq(<>)' < bootlog.list
 * Records keep their line terminators, so the output is byte-identical to the one-liner's,
 * including its faults (priority first, absolute paths, priorities past -32768 on huge profiles).
 */
export const DRAKLIVE_EXCLUDE = /^\/(?:dev|proc|sys|live\/distrib)/;

/** Split like perl's <> does: each record keeps its "\n"; a last line without one stays without. */
export function perlLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl === -1 ? text.length : nl + 1;
    out.push(text.slice(start, end));
    start = end;
  }
  return out;
}

export function renderDraklive(
  records: readonly string[],
  keep: (record: string) => boolean = () => true,
  seedExcludes = true,
): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  let i = 0;
  for (const record of records) {
    if (seen.has(record)) continue;
    seen.add(record);
    if ((seedExcludes && DRAKLIVE_EXCLUDE.test(record)) || !keep(record)) continue;
    parts.push(`${32767 - i} ${record}`);
    i++;
  }
  return parts.join('');
}
