import { type Html, html } from './html.js';

/** A time as UTC ISO without milliseconds, in a `<time>` element; a dash for none. */
export function when(ms: number | string | null | undefined): Html {
  if (ms === null || ms === undefined) return html`<span class="muted">—</span>`;
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) return html`<span class="muted">—</span>`;
  const iso = date.toISOString();
  return html`<time datetime="${iso}">${iso.slice(0, 19).replace('T', ' ')}Z</time>`;
}

const TONE: Record<string, 'ok' | 'bad' | 'warn' | 'idle'> = {
  succeeded: 'ok',
  success: 'ok',
  active: 'ok',
  enabled: 'ok',
  closed: 'ok',
  completed: 'ok',
  idle: 'idle',
  pending: 'warn',
  running: 'warn',
  'half-open': 'warn',
  paused: 'idle',
  queued: 'warn',
  failed: 'bad',
  failure: 'bad',
  disabled: 'bad',
  open: 'bad',
  error: 'bad',
  needs_reauth: 'bad',
  cancelled: 'idle',
};

/** A status as a badge (its word is the information; the colour only repeats it). */
export function badge(status: string): Html {
  return html`<span class="status ${TONE[status] ?? 'idle'}">${status.replace('_', ' ')}</span>`;
}

/** A body as text: JSON pretty-printed when it parses, else UTF-8 (a binary body says its size). */
export function bodyText(body: Buffer | string | null): string {
  if (body === null) return '';
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (typeof body !== 'string' && text.includes('\uFFFD')) return `(${body.length} bytes of binary data)`;
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}
