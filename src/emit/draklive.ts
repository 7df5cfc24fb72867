import { readFileSync } from 'node:fs';
import { InputError, describeSystemError } from '../errors.js';
import { compileExcludes, stripPrefix } from '../profile/filters.js';
import type { Trace } from '../trace/types.js';
import { resolveRegularFile } from '../tree/resolve.js';
import type { TreeView } from '../tree/tree-view.js';

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

export interface DrakliveOptions {
  /** More regexes on top of the seed's (which `seedExcludes` turns off). */
  excludes: readonly string[];
  seedExcludes: boolean;
  stripPrefixes: readonly string[];
  /** Keep only the records that name a regular file of this tree. */
  tree?: TreeView;
}

/**
 * `sort --format draklive`: the seed's one-liner on the raw lines of bootlog.list inputs (read
 * again from their files, terminators and all), and on the file paths of any other trace.
 */
export function drakliveSortFile(traces: readonly Trace[], options: DrakliveOptions): string {
  const records: string[] = [];
  for (const trace of traces) {
    if (trace.format === 'bootlog') {
      let text: string;
      try {
        text = readFileSync(trace.source, 'utf8');
      } catch (err) {
        throw new InputError(describeSystemError(trace.source, err), { cause: err });
      }
      records.push(...perlLines(text));
    } else {
      for (const e of trace.events) if (e.kind !== 'block' && e.path !== '') records.push(`${e.path}\n`);
    }
  }
  const extra = compileExcludes(options.excludes);
  const prefixes = options.stripPrefixes;
  const transformed = prefixes.length === 0 ? records : records.map((r) => {
    const body = r.endsWith('\n') ? r.slice(0, -1) : r;
    return stripPrefix(body, prefixes) + r.slice(body.length);
  });
  const tree = options.tree;
  const keep = (record: string): boolean => {
    const path = record.replace(/\r?\n$/, '');
    if (extra.some((re) => re.test(path))) return false;
    return tree === undefined || resolveRegularFile(tree, path).ok;
  };
  return renderDraklive(transformed, keep, options.seedExcludes);
}
