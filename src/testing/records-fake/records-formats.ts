import type { FakeRecord } from './records-state.js';

export type BodyFormat = 'json' | 'xml' | 'csv';

/** The format asked for: `?format=`, else the Accept header, else JSON. */
export function formatOf(query: string | undefined, accept: string | undefined): BodyFormat | undefined {
  if (query !== undefined) return query === 'json' || query === 'xml' || query === 'csv' ? query : undefined;
  if (accept && /\b(application|text)\/xml\b/.test(accept)) return 'xml';
  if (accept && /\btext\/csv\b/.test(accept)) return 'csv';
  return 'json';
}

export const CONTENT_TYPES: Record<BodyFormat, string> = {
  json: 'application/json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

/**
 * A page as XML: `<response><data><record><id>…</id>…</record>…</data><next_cursor>…</next_cursor>
 * <total>…</total></response>`; nested values are written as JSON text.
 */
export function toXml(records: readonly Record<string, unknown>[], extra: Record<string, unknown>): string {
  const field = (name: string, value: unknown) =>
    value === undefined || value === null ? '' : `<${name}>${escapeXml(text(value))}</${name}>`;
  const rows = records
    .map(
      (r) =>
        `<record>${Object.entries(r)
          .map(([k, v]) => field(k, v))
          .join('')}</record>`,
    )
    .join('');
  const tail = Object.entries(extra)
    .map(([k, v]) => field(k, v))
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><response><data>${rows}</data>${tail}</response>`;
}

/** A page as CSV (RFC 4180): a header row of every field, sorted; nested values as JSON text. */
export function toCsv(records: readonly Record<string, unknown>[]): string {
  const fields = [...new Set(records.flatMap((r) => Object.keys(r)))].sort();
  if (fields.length === 0) fields.push('id');
  const lines = [fields.map(csvCell).join(',')];
  for (const r of records)
    lines.push(fields.map((f) => csvCell(r[f] === undefined ? '' : text(r[f]))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** What a listed tombstone looks like: its id, `deleted: true` and when. */
export function tombstoneView(record: FakeRecord): Record<string, unknown> {
  return { id: record.id, deleted: true, updated_at: record.updated_at };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function csvCell(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function escapeXml(value: string): string {
  return value.replace(
    /[<>&'"]/g,
    (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`,
  );
}
