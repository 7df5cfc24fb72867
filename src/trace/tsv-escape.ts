/**
 * The escaping shared by the module's debugfs files and the profile that `bootprof map` writes:
 * `\\` for a backslash, `\t` for a tab, `\n` for a newline; every other byte as is.
 */
export function unescapeField(text: string): string {
  if (!text.includes('\\')) return text;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c !== '\\' || i + 1 >= text.length) {
      out += c;
      continue;
    }
    const next = text[i + 1]!;
    if (next === '\\') out += '\\';
    else if (next === 't') out += '\t';
    else if (next === 'n') out += '\n';
    else {
      // not an escape the writer produces: keep both characters
      out += c;
      continue;
    }
    i++;
  }
  return out;
}

export function escapeField(text: string): string {
  if (!/[\\\t\n]/.test(text)) return text;
  return text.replace(/[\\\t\n]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : '\\n'));
}
