import type { StoredEvent } from '../store/event-store.js';

/** The JSON shapes of events the admin API answers (and so the CLI shows): ISO times, camelCase. */

/** The list view of an event: metadata only. */
export function eventSummary(e: StoredEvent) {
  return {
    id: e.id,
    source: e.source,
    externalId: e.externalId,
    type: e.type,
    receivedAt: new Date(e.receivedAt).toISOString(),
    occurredAt: e.occurredAt === null ? null : new Date(e.occurredAt).toISOString(),
    duplicates: e.duplicates,
    verification: e.verification,
    size: e.body.length,
  };
}

/** The full view: headers (secrets were stripped at ingest) and the payload, parsed when it is JSON. */
export function eventDetail(e: StoredEvent) {
  let payload: unknown;
  let bodyBase64: string | undefined;
  const text = e.body.toString('utf8');
  const isUtf8 = Buffer.from(text, 'utf8').equals(e.body);
  if (isUtf8 && /json/i.test(e.contentType ?? 'json')) {
    try {
      payload = JSON.parse(text);
    } catch {
      payload = text;
    }
  } else if (isUtf8) payload = text;
  else bodyBase64 = e.body.toString('base64');
  return {
    ...eventSummary(e),
    requestId: e.requestId,
    contentType: e.contentType,
    headers: e.headers,
    lastDuplicateAt: e.lastDuplicateAt === null ? null : new Date(e.lastDuplicateAt).toISOString(),
    ...(bodyBase64 === undefined ? { payload } : { bodyBase64 }),
  };
}
