/**
 * HTML with escaping by construction: `html` is a tagged template whose interpolations are escaped
 * unless they are `Html` themselves (made by `html` or `raw`). Arrays are joined, and `null`,
 * `undefined` and `false` render as nothing, so `${cond && html`…`}` and `${rows.map(row)}` read as
 * they mean. A page is a tree of small typed functions returning `Html`; no string is ever pasted in.
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type Interpolation = Html | string | number | boolean | null | undefined | readonly Interpolation[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

function render(value: Interpolation): string {
  if (value instanceof Html) return value.text;
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new Html(out);
}

/** Trusted markup (the stylesheet, an SVG built from numbers): never for anything a user or sender wrote. */
export function raw(text: string): Html {
  return new Html(text);
}
