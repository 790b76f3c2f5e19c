import type { PartitionCall } from '../../http/client-options.js';
import type { ProviderRateLimit } from '../provider.js';

/**
 * Outlook's limits (throttling-limits.md, "Outlook service limits"): per app and mailbox, 4 requests at
 * once and 10,000 in any 10 minutes. Both are counted per mailbox — the `{id}` of `/users/{id}/…` —
 * in the shared limit store, so every Patchbay process together stays under them. Address each mailbox
 * one way (its id or its address) so its calls count under one key.
 */
export const MAILBOX_CONCURRENCY = 4;
export const MAILBOX_REQUESTS_PER_10_MIN = 10_000;

const USER_PATH = /^\/v1\.0\/users\/([^/]+)(?:\/|$)/i;

/** The mailbox a Graph path reaches (`/v1.0/users/{id}/messages` → `{id}`), decoded, lower case. */
export function mailboxOf(path: string): string | undefined {
  const match = USER_PATH.exec(path);
  if (!match) return undefined;
  const segment = match[1]!.replace(/^\(|\)$/g, '');
  try {
    return decodeURIComponent(segment).replace(/^'|'$/g, '').toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * The mailbox of a call: its path's, or for `$batch` the one mailbox all its requests reach (the
 * batch helper sends one mailbox per batch), costing one slot per request in the rolling window.
 */
function partitionOf(call: PartitionCall, per: 'request' | 'call') {
  const direct = mailboxOf(call.path);
  if (direct !== undefined) return direct;
  if (!/\/\$batch$/.test(call.path) || call.body === undefined) return undefined;
  let requests: unknown;
  try {
    requests = (JSON.parse(call.body.toString()) as { requests?: unknown }).requests;
  } catch {
    return undefined;
  }
  if (!Array.isArray(requests) || requests.length === 0) return undefined;
  const mailboxes = new Set(
    requests.map((r) =>
      mailboxOf(`/v1.0/${String((r as { url?: unknown }).url ?? '').replace(/^\/(v1\.0\/)?/, '')}`),
    ),
  );
  const [only] = mailboxes;
  if (mailboxes.size !== 1 || only === undefined) return undefined;
  return { key: only, cost: per === 'request' ? requests.length : 1 };
}

export function msgraphRateLimits(): ProviderRateLimit[] {
  return [
    {
      key: 'mailbox-concurrency',
      kind: 'concurrency',
      limit: MAILBOX_CONCURRENCY,
      partition: (call) => partitionOf(call, 'call'),
    },
    {
      key: 'mailbox-10-min',
      limit: MAILBOX_REQUESTS_PER_10_MIN,
      windowMs: 600_000,
      partition: (call) => partitionOf(call, 'request'),
    },
  ];
}
