/**
 * Escape-by-default HTML templating: every interpolated value is escaped unless it is SafeHtml,
 * which only `html` itself and `trustedMarkup` (for SVG our own chart code produced) can make.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

/** Markup we generated ourselves (d3-node SVG, whose text and attributes jsdom escapes). */
export function trustedMarkup(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/**
 * JSON safe to place inside a <script type="application/json"> element: no "</script>", no "<!--",
 * and no U+2028/U+2029 (line terminators in older JavaScript).
 */
export function escapeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}
