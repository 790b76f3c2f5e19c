import type { Delivery, DeliveryAttempt, DestinationState } from '../../store/delivery-store.js';
import type { Destination } from './destinations.js';
import { redactUrlForLog } from './redact-url.js';

/**
 * The JSON shapes of deliveries and destinations the admin API answers (and so the CLI shows): times as ISO strings, camelCase, never a secret
 * (destinations show how many secrets they have, not what they are).
 */
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function deliveryView(d: Delivery) {
  return {
    id: d.id,
    eventId: d.eventId,
    destinationId: d.destinationId,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: iso(d.nextAttemptAt),
    lastStatus: d.lastStatus,
    lastError: d.lastError,
    createdAt: iso(d.createdAt),
    succeededAt: iso(d.succeededAt),
  };
}

export function attemptView(a: DeliveryAttempt) {
  return {
    attempt: a.attempt,
    trigger: a.trigger,
    outcome: a.outcome,
    url: a.url,
    startedAt: iso(a.startedAt),
    durationMs: a.durationMs,
    statusCode: a.statusCode,
    errorCode: a.errorCode,
    errorMessage: a.errorMessage,
    responseHeaders: a.responseHeaders,
    responseBody: a.responseBody,
  };
}

export function destinationView(d: Destination, state: DestinationState | undefined) {
  return {
    id: d.id,
    kind: d.kind,
    origin: d.kind === 'http' ? (d.origin ?? 'config') : 'handler',
    ...(d.kind === 'http' && {
      url: redactUrlForLog(d.url),
      secrets: d.secrets.length,
      // Header names only: values are often credentials.
      headers: Object.keys(d.headers),
      format: d.format,
      // Never the password: whether there is one.
      ...(d.email && {
        email: {
          from: d.email.from,
          to: [...d.email.to],
          username: d.email.username ?? null,
          password: d.email.password !== undefined,
        },
      }),
    }),
    events: d.events ?? null,
    ordered: d.ordered,
    rateLimit: d.rateLimit ?? null,
    breaker: d.breaker === false ? ('off' as const) : (d.breaker ?? ('default' as const)),
    timeoutMs: d.timeoutMs,
    status: state?.status ?? 'enabled',
    disabledReason: state?.disabledReason ?? null,
    disabledAt: iso(state?.disabledAt ?? null),
    failingSince: iso(state?.failingSince ?? null),
  };
}
