import { UnsupportedError } from '../errors.js';

/**
 * glibc fnmatch(3) in the C locale with FNM_PATHNAME (and without FNM_NOESCAPE or FNM_PERIOD), as
 * mksquashfs 4.5 calls it for name(), pathname() and subpathname(): `*` and `?` never match '/',
 * neither does a bracket expression; a backslash makes the next byte literal; `[!...]`/`[^...]`
 * negate, `[:class:]` are the C locale's classes. Pattern and subject are byte strings (latin1
 * JS strings: one char per byte), since mksquashfs never sets a locale.
 * FNM_EXTMATCH patterns (`?(`, `*(`, `+(`, `@(`, `!(`) are refused: UnsupportedError.
 */
export function compileFnmatch(pattern: string): (subject: string) => boolean {
  const re = new RegExp(`^${translate(pattern)}$`, 's');
  return (subject) => re.test(subject);
}

const CLASSES: Record<string, string> = {
  alpha: 'A-Za-z',
  digit: '0-9',
  alnum: '0-9A-Za-z',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\v\\f\\r',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  print: ' -~',
  graph: '!-~',
  cntrl: '\\x00-\\x1f\\x7f',
  xdigit: '0-9A-Fa-f',
};

const reChar = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

function translate(p: string): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if ('?*+@!'.includes(c) && p[i + 1] === '(') throw new UnsupportedError(`extended glob "${c}(" in pattern ${JSON.stringify(p)} is not supported`);
    if (c === '\\') {
      // A trailing backslash makes glibc's fnmatch fail to match anything.
      if (i + 1 >= p.length) return '(?!)';
      out += reChar(p[++i]!);
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '[') {
      const br = bracket(p, i);
      if (br === undefined) out += reChar(c);
      else {
        out += br.re;
        i = br.end;
      }
    } else out += reChar(c);
  }
  return out;
}

/** A bracket expression starting at p[start] === '[': its RegExp and the index of its ']'. */
function bracket(p: string, start: number): { re: string; end: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (p[i] === '!' || p[i] === '^') {
    negate = true;
    i++;
  }
  const items: string[] = [];
  let first = true;
  for (;;) {
    if (i >= p.length) return undefined; // no closing ']': '[' is literal
    let c = p[i]!;
    if (c === ']' && !first) break;
    first = false;
    if (c === '[' && p[i + 1] === ':') {
      const close = p.indexOf(':]', i + 2);
      if (close < 0) return undefined;
      const name = p.slice(i + 2, close);
      const cls = CLASSES[name];
      if (cls === undefined) throw new UnsupportedError(`character class [:${name}:] in pattern ${JSON.stringify(p)}`);
      items.push(cls);
      i = close + 2;
      continue;
    }
    if (c === '[' && (p[i + 1] === '=' || p[i + 1] === '.')) {
      const kind = p[i + 1]!;
      const close = p.indexOf(`${kind}]`, i + 2);
      if (close !== i + 3) throw new UnsupportedError(`collating element in pattern ${JSON.stringify(p)}`);
      c = p[i + 2]!;
      i = close + 1;
      items.push(reChar(c));
      continue;
    }
    if (c === '\\') {
      i++;
      if (i >= p.length) return undefined;
      c = p[i]!;
    }
    i++;
    if (p[i] === '-' && i + 1 < p.length && p[i + 1] !== ']') {
      let hi = p[i + 1]!;
      i += 2;
      if (hi === '\\') {
        if (i >= p.length) return undefined;
        hi = p[i]!;
        i++;
      }
      if (hi.charCodeAt(0) >= c.charCodeAt(0)) items.push(`${reChar(c)}-${reChar(hi)}`);
      continue;
    }
    items.push(reChar(c));
  }
  const set = items.join('');
  // FNM_PATHNAME: a bracket expression never matches '/'.
  const re = negate ? `[^/${set}]` : set === '' ? '(?!)' : `(?!/)[${set}]`;
  return { re, end: i };
}
