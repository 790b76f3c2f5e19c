import type { Engine } from '../engine/index.js';
import type { Delivery, DeliveryAttempt } from '../store/delivery-store.js';
import type { StoredEvent } from '../store/event-store.js';
import type { Destination } from '../webhooks/delivery/destinations.js';

/**
 * The JSON shapes the admin API and the CLI show: times as ISO strings, camelCase, never a secret
 * (destinations show how many secrets they have, not what they are).
 */
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function deliveryView(d: Delivery) {
  return {
    id: d.id,
    eventId: d.event_id,
    destinationId: d.destination_id,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: iso(d.next_attempt_at),
    lastStatus: d.last_status,
    lastError: d.last_error,
    createdAt: iso(d.created_at),
    succeededAt: iso(d.succeeded_at),
  };
}

export function attemptView(a: DeliveryAttempt) {
  return {
    attempt: a.attempt,
    trigger: a.trigger,
    outcome: a.outcome,
    url: a.url,
    startedAt: iso(a.started_at),
    durationMs: a.duration_ms,
    statusCode: a.status_code,
    errorCode: a.error_code,
    errorMessage: a.error_message,
    responseHeaders: a.response_headers ? (JSON.parse(a.response_headers) as Record<string, string>) : null,
    responseBody: a.response_body,
  };
}

export async function destinationView(engine: Engine, d: Destination) {
  const state = await engine.destinations.state(d.id);
  return {
    id: d.id,
    kind: d.kind,
    origin: d.kind === 'http' ? (d.origin ?? 'config') : 'handler',
    ...(d.kind === 'http' && {
      url: `${d.url.origin}${d.url.pathname}${d.url.search ? '?…' : ''}`,
      secrets: d.secrets.length,
      // Header names only: values are often credentials.
      headers: Object.keys(d.headers),
    }),
    events: d.events ?? null,
    ordered: d.ordered,
    timeoutMs: d.timeoutMs,
    status: state?.status ?? 'enabled',
    disabledReason: state?.disabled_reason ?? null,
    disabledAt: iso(state?.disabled_at ?? null),
    failingSince: iso(state?.failing_since ?? null),
  };
}

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
