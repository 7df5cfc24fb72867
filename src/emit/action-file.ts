import { ACTION_MAX_LINE_BYTES, literalPathPattern, quoteActionArgument, type FileAction } from '../formats/action-file.js';
import type { DroppedPath } from '../profile/types.js';

export interface ActionFileEntry {
  /** Path relative to the mksquashfs source directory ("usr/bin/bash"). */
  rel: string;
  /** The profile's path, for reporting a drop ("/usr/bin/bash"). */
  path: string;
}

/**
 * - 'tree' (default): one action whose test walks the directory tree,
 *   `(subpathname("/usr") && (pathname("/usr/x") || (subpathname("/usr/bin") && (...))))`, split over
 *   continuation lines. Each file of the source tree costs a few subpathname() tests plus the
 *   listed names of its own directory.
 * - 'per-file': one `no-fragments@pathname("/usr/bin/bash")` line per file. mksquashfs evaluates
 *   every action against every file (eval_actions in action.c): (files in the tree) x (lines)
 *   fnmatch calls. 5,000 lines on a 50,000-file tree: a 3 s build took 10-14 s ('tree': 3 s).
 */
export type ActionGrouping = 'tree' | 'per-file';

export interface ActionFileOptions {
  action: FileAction;
  grouping?: ActionGrouping;
}

export interface ActionFileResult {
  text: string;
  /** Files the action file names (each distinct path once). */
  written: number;
  /** Paths that cannot be expressed in an action file, with the reason. */
  dropped: DroppedPath[];
}

/** Physical lines are cut well below mksquashfs's 16384-byte limit. */
const TARGET_LINE_BYTES = 8192;

/**
 * A mksquashfs 4.5 action file (`mksquashfs SRC IMG -action-file FILE`) applying `action` to exactly
 * the listed regular files (quoting rules and their source: src/formats/action-file.ts). A path
 * listed twice is written once; a path that cannot be written (a newline in the name, a name too
 * long for one line) is dropped with the reason, never silently.
 */
export function renderActionFile(entries: readonly ActionFileEntry[], options: ActionFileOptions): ActionFileResult {
  const seen = new Set<string>();
  const dropped: DroppedPath[] = [];
  const files: { rel: string; pattern: string }[] = [];
  for (const e of entries) {
    const rel = e.rel.replace(/^\/+/, '');
    if (seen.has(rel)) continue;
    seen.add(rel);
    const res = literalPathPattern(rel);
    if (!res.ok) {
      dropped.push({ path: e.path, reason: 'unrepresentable', detail: res.why });
      continue;
    }
    const arg = quoteActionArgument(res.pattern);
    // The longest line holding this name: "subpathname(" + dir + ") && (" / "pathname(" + arg + ")" plus the action.
    const bytes = Buffer.byteLength(arg) + options.action.length + 40;
    if (bytes >= ACTION_MAX_LINE_BYTES) {
      dropped.push({
        path: e.path,
        reason: 'unrepresentable',
        detail: `the name needs ${bytes} bytes on one action-file line, past mksquashfs's ${ACTION_MAX_LINE_BYTES}-byte line limit`,
      });
      continue;
    }
    files.push({ rel, pattern: res.pattern });
  }
  if (files.length === 0) return { text: '', written: 0, dropped };
  if ((options.grouping ?? 'tree') === 'per-file') {
    const text = files.map((f) => `${options.action}@pathname(${quoteActionArgument(f.pattern)})\n`).join('');
    return { text, written: files.length, dropped };
  }
  const tokens: string[] = [];
  treeExpression(buildTree(files), tokens);
  return { text: joinLines(`${options.action}@`, tokens), written: files.length, dropped };
}

interface DirNode {
  /** fnmatch pattern of the directory ("/usr/bin"), '' at the root. */
  pattern: string;
  files: string[];
  dirs: Map<string, DirNode>;
}

function buildTree(files: readonly { rel: string; pattern: string }[]): DirNode {
  const root: DirNode = { pattern: '', files: [], dirs: new Map() };
  for (const f of files) {
    const parts = f.rel.split('/').filter((p) => p !== '');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      let child = node.dirs.get(part);
      if (child === undefined) {
        const pat = literalPathPattern(part);
        child = { pattern: `${node.pattern}${pat.ok ? pat.pattern : `/${part}`}`, files: [], dirs: new Map() };
        node.dirs.set(part, child);
      }
      node = child;
    }
    node.files.push(f.pattern);
  }
  return root;
}

/**
 * Appends the tokens of `alt1 || alt2 || ...` for a directory: its files as pathname() tests, its
 * subdirectories as `(subpathname(dir) && (...))`. mksquashfs has no operator precedence (strictly
 * left to right), so every group is bracketed. A directory holding one subdirectory and no listed
 * file adds no test of its own.
 */
function treeExpression(node: DirNode, out: string[]): void {
  let first = true;
  const sep = (): void => {
    if (!first) out.push('||');
    first = false;
  };
  for (const f of node.files) {
    sep();
    out.push(`pathname(${quoteActionArgument(f)})`);
  }
  for (const child of node.dirs.values()) {
    sep();
    let c = child;
    while (c.files.length === 0 && c.dirs.size === 1) c = c.dirs.values().next().value!;
    if (c.files.length === 1 && c.dirs.size === 0) {
      out.push(`pathname(${quoteActionArgument(c.files[0]!)})`);
      continue;
    }
    out.push(`(subpathname(${quoteActionArgument(c.pattern)})`, '&&', '(');
    treeExpression(c, out);
    out.push(')', ')');
  }
}

/**
 * One logical line: tokens separated by spaces, physical lines ended by " \" (a backslash after a
 * space, so mksquashfs never mistakes it for an escaped backslash) once they pass TARGET_LINE_BYTES.
 */
function joinLines(head: string, tokens: readonly string[]): string {
  const lines: string[] = [];
  let cur = head;
  let curBytes = Buffer.byteLength(cur);
  for (const tok of tokens) {
    const bytes = Buffer.byteLength(tok) + 1;
    if (curBytes + bytes + 2 > TARGET_LINE_BYTES && curBytes > 0) {
      lines.push(`${cur} \\\n`);
      cur = '';
      curBytes = 0;
    }
    const glue = cur === '' || cur.endsWith('@') || cur.endsWith('(') || tok === ')' ? '' : ' ';
    cur = `${cur}${glue}${tok}`;
    curBytes += bytes;
  }
  lines.push(`${cur}\n`);
  return lines.join('');
}
