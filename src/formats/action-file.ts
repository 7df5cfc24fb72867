/**
 * mksquashfs 4.5 action files (`-action-file FILE`), as squashfs-tools 4.5.1 reads them
 * (squashfs-tools/action.c):
 *
 * - read_file(): lines are read with fgets into a MAX_LINE (16384) buffer; a physical line of 16384
 *   bytes or more without its '\n' is fatal ("Line too long"). A line ending in a single '\' is
 *   joined with the next one (the backslash and the newline are removed), so a newline can never be
 *   part of an argument. Leading whitespace is skipped; a line starting with '#' is a comment.
 * - get_token(): the special tokens are `(` `)` `&&` `||` `!` `,` `@` space and tab. In a string,
 *   every '"' toggles quoting and is removed; inside quotes the special tokens are plain characters;
 *   a backslash (quoted or not) makes the next byte literal.
 * - pathname(pattern): check_pathname() prefixes the pattern with '/' when it lacks one, and the
 *   test is fnmatch(pattern, subpath, FNM_PATHNAME|FNM_EXTMATCH), subpath being the file's path in
 *   the image with a leading '/' ("/usr/bin/bash"). No FNM_NOESCAPE: a backslash in the pattern makes
 *   the next byte literal; `*` `?` `[` and, with FNM_EXTMATCH, `+(` `@(` `!(` are special. mksquashfs
 *   never calls setlocale(), so matching is bytewise (C locale): UTF-8 names match byte for byte.
 *
 * So a path is written as pathname("…"): first escaped for fnmatch (a backslash before `\ * ? [ ] + @ !`),
 * then for the lexer (a backslash before `\` and `"`), inside double quotes.
 */

import { FormatError, LimitError, UnsupportedError } from '../errors.js';
import { compileFnmatch } from './fnmatch.js';

/** mksquashfs's MAX_LINE: a physical line (with its '\n') must be shorter than this. */
export const ACTION_MAX_LINE_BYTES = 16384;

/** The actions bootprof writes; all apply to regular files only (ACTION_REG in action.c). */
export type FileAction = 'no-fragments';

/** Characters fnmatch treats specially (FNM_EXTMATCH adds `+(` `@(` `!(`; escaping `+@!` always is harmless). */
const FNMATCH_SPECIAL = /[\\*?[\]+@!]/g;

/** The fnmatch pattern that matches exactly this relative path, or why there is none. */
export function literalPathPattern(rel: string): { ok: true; pattern: string } | { ok: false; why: string } {
  if (rel.includes('\n')) {
    return {
      ok: false,
      why: 'a newline in the name cannot be written in a mksquashfs action file (lines are read one by one; a backslash-newline joins lines)',
    };
  }
  if (rel.includes('\0')) return { ok: false, why: 'a NUL byte in the name' };
  const clean = rel.replace(/^\/+/, '');
  if (clean === '') return { ok: false, why: 'an empty path' };
  return { ok: true, pattern: `/${clean.replace(FNMATCH_SPECIAL, (c) => `\\${c}`)}` };
}

/** An action-file string argument that the lexer turns back into exactly `arg`. */
export function quoteActionArgument(arg: string): string {
  return `"${arg.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `no-fragments@pathname("/usr/bin/bash")`, or why the path cannot be written. */
export function actionLine(action: FileAction, rel: string): { ok: true; text: string } | { ok: false; why: string } {
  const pat = literalPathPattern(rel);
  if (!pat.ok) return pat;
  const text = `${action}@pathname(${quoteActionArgument(pat.pattern)})\n`;
  if (Buffer.byteLength(text) >= ACTION_MAX_LINE_BYTES) {
    return { ok: false, why: `the action line would be ${Buffer.byteLength(text)} bytes, past mksquashfs's ${ACTION_MAX_LINE_BYTES}-byte line limit` };
  }
  return { ok: true, text };
}

// ---------------------------------------------------------------------------------------------
// Reading an action file back (for `bootprof verify --actions`), as action.c 4.5.1 does.

/** A test expression. Strings are byte strings (latin1: one char per byte), as mksquashfs sees them. */
export type ActionExpr =
  | { type: 'test'; name: string; args: string[] }
  | { type: 'not'; expr: ActionExpr }
  | { type: 'and' | 'or'; lhs: ActionExpr; rhs: ActionExpr };

export interface ActionSpec {
  action: string;
  args: string[];
  expr: ActionExpr;
  /** 1-based line number of the (first physical) line. */
  line: number;
}

/** action_table in action.c 4.5.1: name -> number of arguments (-2: any). */
const ACTIONS: Record<string, number> = {
  fragment: 1,
  exclude: 0,
  fragments: 0,
  'no-fragments': 0,
  'always-use-fragments': 0,
  'dont-always-use-fragments': 0,
  tailend: 0,
  'no-tailend': 0,
  compressed: 0,
  uncompressed: 0,
  uid: 1,
  gid: 1,
  guid: 2,
  mode: -2,
  empty: -2,
  move: 1,
  prune: 0,
  chmod: -2,
  noop: 0,
};

/** test_table in action.c 4.5.1: name -> number of arguments (-2: any). */
const TESTS: Record<string, number> = {
  name: 1,
  pathname: 1,
  subpathname: 1,
  filesize: 1,
  dirsize: 1,
  size: 1,
  inode: 1,
  nlink: 1,
  fileblocks: 1,
  dirblocks: 1,
  blocks: 1,
  gid: 1,
  group: 1,
  uid: 1,
  user: 1,
  depth: 1,
  dircount: 1,
  filesize_range: 2,
  dirsize_range: 2,
  size_range: 2,
  inode_range: 2,
  nlink_range: 2,
  fileblocks_range: 2,
  dirblocks_range: 2,
  blocks_range: 2,
  gid_range: 2,
  uid_range: 2,
  depth_range: 2,
  dircount_range: 2,
  type: 1,
  true: 0,
  false: 0,
  file: 1,
  exec: 1,
  exists: 0,
  absolute: 0,
  stat: 1,
  readlink: 1,
  eval: 2,
  perm: -2,
};

const MAX_ACTIONS = 1_000_000;

type Token = { t: '(' | ')' | '&&' | '||' | '!' | ',' | '@' | 'eof' } | { t: 'string'; s: string };

/**
 * Parses a mksquashfs action file the way mksquashfs 4.5.1 does (read_file, get_token,
 * parse_action, parse_expr in action.c): continuation lines, comments, quoting, operators without
 * precedence (left to right), `!` binding to the next atom. Unknown actions or tests, wrong
 * argument counts and syntax errors throw FormatError naming the file, line and byte offset.
 */
export function parseActionFile(bytes: Buffer, file: string): ActionSpec[] {
  const specs: ActionSpec[] = [];
  let pos = 0;
  let lineNo = 1;
  while (pos < bytes.length) {
    // read_file(): join physical lines ending in a single backslash.
    const startLine = lineNo;
    const startPos = pos;
    let logical = '';
    for (;;) {
      let end = bytes.indexOf(0x0a, pos);
      const hasNl = end >= 0;
      if (!hasNl) end = bytes.length;
      if (end - pos + (hasNl ? 1 : 0) > ACTION_MAX_LINE_BYTES || (!hasNl && end - pos >= ACTION_MAX_LINE_BYTES)) {
        throw new FormatError(file, pos, `line ${lineNo} is longer than mksquashfs's ${ACTION_MAX_LINE_BYTES}-byte limit`);
      }
      const phys = bytes.toString('latin1', pos, end);
      pos = hasNl ? end + 1 : end;
      lineNo++;
      const cont = phys.endsWith('\\') && !phys.endsWith('\\\\');
      logical += cont ? phys.slice(0, -1) : phys;
      if (!cont || pos >= bytes.length) break;
    }
    const text = logical.replace(/^[\t\n\v\f\r ]+/, '');
    if (text === '' || text.startsWith('#')) continue;
    if (logical.includes('\0')) throw new FormatError(file, startPos, `line ${startLine}: a NUL byte`);
    if (specs.length >= MAX_ACTIONS) throw new LimitError(file, startPos, `more than ${MAX_ACTIONS} actions`);
    specs.push(parseAction(text, startLine, startPos, file));
  }
  return specs;
}

function parseAction(text: string, line: number, offset: number, file: string): ActionSpec {
  let cur = 0;
  const fail = (msg: string): never => {
    throw new FormatError(file, offset, `line ${line}: ${msg}`);
  };
  const OPS: [string, Token['t']][] = [
    ['(', '('],
    [')', ')'],
    ['&&', '&&'],
    ['||', '||'],
    ['!', '!'],
    [',', ','],
    ['@', '@'],
  ];
  const atOp = (i: number): Token['t'] | 'space' | undefined => {
    if (text[i] === ' ' || text[i] === '\t') return 'space';
    for (const [s, t] of OPS) if (text.startsWith(s, i)) return t;
    return undefined;
  };
  const next = (): Token => {
    for (;;) {
      if (cur >= text.length) return { t: 'eof' };
      const op = atOp(cur);
      if (op !== 'space') break;
      cur++;
    }
    const op = atOp(cur);
    if (op !== undefined && op !== 'space') {
      cur += op === '&&' || op === '||' ? 2 : 1;
      return { t: op } as Token;
    }
    let s = '';
    let quoted = false;
    for (;;) {
      while (text[cur] === '"') {
        cur++;
        quoted = !quoted;
      }
      if (cur >= text.length) {
        if (quoted) return { t: 'eof' };
        break;
      }
      if (!quoted && atOp(cur) !== undefined) break;
      if (text[cur] === '\\') {
        cur++;
        if (cur >= text.length) return { t: 'eof' };
      }
      s += text[cur++];
    }
    return { t: 'string', s };
  };
  const peek = (): Token => {
    const saved = cur;
    const tok = next();
    cur = saved;
    return tok;
  };
  const show = (tok: Token): string => (tok.t === 'string' ? JSON.stringify(tok.s) : tok.t === 'eof' ? 'end of line' : `"${tok.t}"`);
  const readArgs = (): { args: string[]; after: Token } => {
    // After "(": STRING ("," STRING)* ")" or ")".
    const args: string[] = [];
    let tok = next();
    if (tok.t === ')') return { args, after: tok };
    for (;;) {
      if (tok.t !== 'string') return fail(`unexpected ${show(tok)}, expected an argument`);
      args.push(tok.s);
      tok = next();
      if (tok.t === ')') return { args, after: tok };
      if (tok.t !== ',') return fail(`unexpected ${show(tok)}, expected "," or ")"`);
      tok = next();
    }
  };
  const arity = (kind: string, nm: string, want: number, got: number): void => {
    if (want !== -2 && want !== got) fail(`${kind} ${JSON.stringify(nm)} takes ${want} argument${want === 1 ? '' : 's'}, got ${got}`);
  };
  const parseTest = (nm: string): ActionExpr => {
    const want = TESTS[nm];
    if (want === undefined) return fail(`unknown test ${JSON.stringify(nm)}`);
    let args: string[] = [];
    if (peek().t === '(') {
      next();
      args = readArgs().args;
    }
    arity('test', nm, want, args.length);
    if ((nm === 'pathname' || nm === 'subpathname') && !args[0]!.startsWith('/')) args[0] = `/${args[0]!}`;
    return { type: 'test', name: nm, args };
  };
  const getAtom = (): ActionExpr => {
    const tok = next();
    if (tok.t === '!') return { type: 'not', expr: getAtom() };
    if (tok.t === '(') return parseExpr(true);
    if (tok.t === 'string') return parseTest(tok.s);
    return fail(`unexpected ${show(tok)}, expected a test, "!" or "("`);
  };
  const parseExpr = (sub: boolean): ActionExpr => {
    let expr = getAtom();
    for (;;) {
      const op = next();
      if (op.t === 'eof') {
        if (sub) fail('expected "&&", "||" or ")", got the end of the line');
        return expr;
      }
      if (op.t === ')') {
        if (!sub) fail('unexpected ")"');
        return expr;
      }
      if (op.t !== '&&' && op.t !== '||') return fail(`unexpected ${show(op)}, expected "&&" or "||"`);
      expr = { type: op.t === '&&' ? 'and' : 'or', lhs: expr, rhs: getAtom() };
    }
  };

  const head = next();
  if (head.t !== 'string') return fail(`unexpected ${show(head)}, expected an action name`);
  const want = ACTIONS[head.s];
  if (want === undefined) return fail(`unknown action ${JSON.stringify(head.s)}`);
  let tok = next();
  let args: string[] = [];
  if (tok.t !== '@') {
    if (tok.t !== '(') return fail(`unexpected ${show(tok)}, expected "(" or "@"`);
    args = readArgs().args;
    tok = next();
  }
  arity('action', head.s, want, args.length);
  if (tok.t !== '@') return fail(`unexpected ${show(tok)}, expected "@"`);
  return { action: head.s, args, expr: parseExpr(false), line };
}

/** What a test sees of a file. */
export interface ActionSubject {
  /** Path in the image, "/usr/bin/bash" (a JS string; matched as its UTF-8 bytes). */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'block' | 'char' | 'fifo' | 'socket';
  size: number;
}

const TYPE_LETTER: Record<ActionSubject['type'], string> = { file: 'f', dir: 'd', symlink: 'l', block: 'b', char: 'c', fifo: 'p', socket: 's' };

/** parse_number in action.c: [<-|>+]number[kKmMgG]. */
function numberTest(arg: string, file: string, line: number): (v: number) => boolean {
  const m = /^([<>+-]?)(\d+)([kKmMgG]?)$/.exec(arg);
  if (!m) throw new FormatError(file, undefined, `line ${line}: ${JSON.stringify(arg)} is not a number`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[3]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number(m[2]) * mult;
  if (m[1] === '<' || m[1] === '-') return (v) => v < n;
  if (m[1] === '>' || m[1] === '+') return (v) => v > n;
  return (v) => v === n;
}

/**
 * Compiles a test expression into a predicate, with mksquashfs's semantics for the tests that a
 * Layout can answer: name, pathname, subpathname, filesize, size, type, true, false.
 * Other tests (uid, perm, file, ...) throw UnsupportedError.
 */
export function compileActionExpr(expr: ActionExpr, file: string, line: number): (s: ActionSubject) => boolean {
  switch (expr.type) {
    case 'not': {
      const inner = compileActionExpr(expr.expr, file, line);
      return (s) => !inner(s);
    }
    case 'and':
    case 'or': {
      const lhs = compileActionExpr(expr.lhs, file, line);
      const rhs = compileActionExpr(expr.rhs, file, line);
      return expr.type === 'and' ? (s) => lhs(s) && rhs(s) : (s) => lhs(s) || rhs(s);
    }
    case 'test':
      break;
  }
  const arg = expr.args[0] ?? '';
  const bytes = (s: string): string => Buffer.from(s, 'utf8').toString('latin1');
  switch (expr.name) {
    case 'true':
      return () => true;
    case 'false':
      return () => false;
    case 'name': {
      const m = compileFnmatch(arg);
      return (s) => m(bytes(s.path.slice(s.path.lastIndexOf('/') + 1)));
    }
    case 'pathname': {
      const m = compileFnmatch(arg);
      return (s) => m(bytes(s.path));
    }
    case 'subpathname': {
      const m = compileFnmatch(arg);
      const n = arg.split('/').filter((c) => c !== '').length;
      return (s) => {
        const parts = s.path.split('/').filter((c) => c !== '');
        return m(bytes(parts.length >= n ? `/${parts.slice(0, n).join('/')}` : s.path));
      };
    }
    case 'filesize': {
      const t = numberTest(arg, file, line);
      return (s) => s.type === 'file' && t(s.size);
    }
    case 'size': {
      const t = numberTest(arg, file, line);
      return (s) => t(s.size);
    }
    case 'type': {
      if (!/^[fdlcbps]$/.test(arg)) throw new FormatError(file, undefined, `line ${line}: type(${arg}): expected one of f d l c b p s`);
      return (s) => TYPE_LETTER[s.type] === arg;
    }
    default:
      throw new UnsupportedError(`${file}: line ${line}: the test ${JSON.stringify(expr.name)} cannot be evaluated from an image layout`);
  }
}

/**
 * Which regular files end up with no_fragments set: the actions run in file order and the last
 * matching one of `no-fragments` (sets) and `fragments` (clears) wins (eval_actions in action.c).
 * Other actions do not change it.
 */
export function noFragmentsPredicate(specs: readonly ActionSpec[], file: string): { matches: (s: ActionSubject) => boolean; actions: number } {
  const rules = specs
    .filter((s) => s.action === 'no-fragments' || s.action === 'fragments')
    .map((s) => ({ set: s.action === 'no-fragments', test: compileActionExpr(s.expr, file, s.line) }));
  return {
    actions: rules.filter((r) => r.set).length,
    matches: (s) => {
      if (s.type !== 'file') return false;
      let on = false;
      for (const r of rules) if (r.test(s)) on = r.set;
      return on;
    },
  };
}
