import type { StoredEvent } from '../../../store/event-store.js';
import { decodePayload } from '../destinations.js';

export interface MailMessage {
  subject: string;
  text: string;
}

/** Subjects longer than this are cut (mail clients show ~80 characters; RFC 5322 lines stop at 998). */
const SUBJECT_LIMIT = 160;
/** The payload quoted in the body is cut here. */
const PAYLOAD_LIMIT = 20_000;

interface HealthPayload {
  kind?: unknown;
  id?: unknown;
  from?: unknown;
  to?: unknown;
  score?: unknown;
  reasons?: unknown;
  text?: unknown;
}

/**
 * The e-mail an event becomes. Subject: for a health event, the object, its new state and score
 * (`Patchbay: destination "app" is failing (score 10, was healthy)`); otherwise the payload's `text`,
 * else `Patchbay: <source>.<type>`. Body: the text, the reasons one a line, the event's name, id and
 * time, and its payload as indented JSON — plain text, so it reads the same in every client.
 */
export function mailMessage(event: StoredEvent): MailMessage {
  const payload = decodePayload(event);
  const fields = (payload !== null && typeof payload === 'object' ? payload : {}) as HealthPayload;
  const text = typeof fields.text === 'string' ? fields.text : undefined;
  const name = `${event.source}.${event.type}`;
  const health = event.source === 'patchbay' && event.type.startsWith('health.');
  const subject =
    health && typeof fields.kind === 'string' && typeof fields.id === 'string'
      ? `Patchbay: ${fields.kind} "${fields.id}" is ${String(fields.to)} (score ${String(fields.score)}, was ${String(fields.from)})`
      : (text?.split('\n')[0] ?? `Patchbay: ${name}`);
  const reasons = Array.isArray(fields.reasons)
    ? fields.reasons.filter((r): r is string => typeof r === 'string')
    : [];
  const quoted = JSON.stringify(payload, null, 2) ?? String(payload);
  const body = [
    ...(text ? [text, ''] : []),
    ...(reasons.length > 0 ? ['Reasons:', ...reasons.map((r) => `  ${r}`), ''] : []),
    `Event: ${name} ${event.id}, ${new Date(event.receivedAt).toISOString()}`,
    '',
    'Payload:',
    quoted.length > PAYLOAD_LIMIT
      ? `${quoted.slice(0, PAYLOAD_LIMIT)}\n… (cut at ${PAYLOAD_LIMIT} characters)`
      : quoted,
    '',
  ];
  return { subject: oneLine(subject), text: body.join('\n') };
}

function oneLine(subject: string): string {
  const flat = subject.replace(/[\r\n\t]+/g, ' ').trim();
  return flat.length > SUBJECT_LIMIT ? `${flat.slice(0, SUBJECT_LIMIT - 1)}…` : flat;
}
