import type { Clock } from '../../core/clock.js';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { HttpClient } from '../../http/create-http-client.js';
import { parseRetryAfter } from '../../resilience/retry-after.js';
import { mailboxOf } from './limits.js';

/** One request of a `$batch`: its `url` is relative to the version (`/users/{id}/messages/{id}`). */
export interface GraphBatchRequest {
  id: string;
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  dependsOn?: string[];
}

export interface GraphBatchAnswer {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  /** Times this request was sent (its per-item retries included). */
  attempts: number;
}

export interface GraphBatchOptions {
  clock: Clock;
  signal?: AbortSignal;
  /** Sends of one request before its last throttled answer stands. Defaults to 5. */
  maxAttempts?: number;
}

/** G7: at most 20 requests a batch. */
export const MAX_BATCH = 20;
const RETRIED = new Set([429, 503, 504]);

interface Pending {
  request: GraphBatchRequest;
  attempts: number;
  notBefore: number;
}

/**
 * Runs requests through `$batch`, at most 20 at a time and one mailbox a batch (so the batch counts
 * against that mailbox's limits). Graph throttles each sub-request on its own — a `429` with its own
 * `Retry-After` inside an outer 200, which no SDK retries (G7, G12) — so each throttled request is sent
 * again once its own wait is over, and a request that got 424 because its dependency was throttled
 * goes again with it. Answers come back in the order of `requests`.
 */
export async function graphBatch(
  client: HttpClient,
  requests: readonly GraphBatchRequest[],
  options: GraphBatchOptions,
): Promise<GraphBatchAnswer[]> {
  check(requests);
  const maxAttempts = options.maxAttempts ?? 5;
  const { clock, signal } = options;
  const done = new Map<string, GraphBatchAnswer>();
  let pending: Pending[] = requests.map((request) => ({ request, attempts: 0, notBefore: 0 }));
  while (pending.length > 0) {
    const now = clock.now();
    const due = pending.filter((p) => p.notBefore <= now);
    if (due.length === 0) {
      await clock.sleep(Math.max(1, Math.min(...pending.map((p) => p.notBefore)) - now), signal);
      continue;
    }
    pending = pending.filter((p) => p.notBefore > now);
    for (const chunk of chunks(due)) {
      // A dependency answered earlier: a failed one fails its dependents here (424, as Graph would);
      // one still waiting to be sent again takes its dependents back to the queue with it.
      const toSend: Pending[] = [];
      for (const item of chunk) {
        const outside = (item.request.dependsOn ?? []).filter((d) => !chunk.some((c) => c.request.id === d));
        const failed = outside.find((d) => (done.get(d)?.status ?? 0) >= 400);
        if (failed !== undefined) done.set(item.request.id, failedDependency(item, failed));
        else if (outside.some((d) => !done.has(d))) {
          // It waits as long as its dependency does (0: the dependency goes out later in this pass).
          const waits = pending.filter((p) => outside.includes(p.request.id)).map((p) => p.notBefore);
          pending.push({ ...item, notBefore: Math.max(0, ...waits) });
        } else toSend.push(item);
      }
      if (toSend.length === 0) continue;
      const answers = await send(client, toSend, signal);
      const again = new Set<string>();
      for (const item of toSend) {
        const answer = answers.get(item.request.id) ?? missing(item.request.id);
        const attempts = item.attempts + 1;
        if (RETRIED.has(answer.status) && attempts < maxAttempts) {
          const wait =
            parseRetryAfter(headerOf(answer.headers, 'retry-after'), clock.now()) ??
            1000 * 2 ** item.attempts;
          pending.push({ ...item, attempts, notBefore: clock.now() + wait });
          again.add(item.request.id);
        } else {
          done.set(item.request.id, { ...answer, attempts });
        }
      }
      // Graph answered 424 to what depended on a throttled request: it goes again with it.
      for (const item of toSend) {
        const answer = done.get(item.request.id);
        if (answer?.status !== 424 || !(item.request.dependsOn ?? []).some((d) => again.has(d))) continue;
        done.delete(item.request.id);
        pending.push({ ...item, notBefore: 0 });
      }
    }
  }
  return requests.map((r) => done.get(r.id)!);
}

async function send(
  client: HttpClient,
  chunk: Pending[],
  signal: AbortSignal | undefined,
): Promise<Map<string, Omit<GraphBatchAnswer, 'attempts'>>> {
  const inChunk = new Set(chunk.map((p) => p.request.id));
  const body = {
    requests: chunk.map(({ request }) => {
      // A dependency answered in an earlier batch is no dependency of this one.
      const dependsOn = (request.dependsOn ?? []).filter((d) => inChunk.has(d));
      const headers =
        request.body !== undefined
          ? { 'Content-Type': 'application/json', ...request.headers }
          : request.headers;
      return {
        id: request.id,
        method: request.method,
        url: request.url,
        ...(headers && { headers }),
        ...(request.body !== undefined && { body: request.body }),
        ...(dependsOn.length > 0 && { dependsOn }),
      };
    }),
  };
  const response = await client.request({
    method: 'POST',
    path: '/v1.0/$batch',
    body,
    ...(signal && { signal }),
  });
  const responses = (response.body as { responses?: unknown })?.responses;
  if (!Array.isArray(responses)) {
    throw new PatchbayError(
      ErrorCode.RESPONSE_INVALID,
      'Graph answered a $batch without a "responses" array',
    );
  }
  const out = new Map<string, Omit<GraphBatchAnswer, 'attempts'>>();
  for (const raw of responses as Array<Record<string, unknown>>) {
    if (typeof raw?.id !== 'string' || typeof raw.status !== 'number') continue;
    out.set(raw.id, {
      id: raw.id,
      status: raw.status,
      headers: (raw.headers as Record<string, string>) ?? {},
      ...(raw.body !== undefined && { body: raw.body }),
    });
  }
  return out;
}

function failedDependency(item: Pending, failed: string): GraphBatchAnswer {
  return {
    id: item.request.id,
    status: 424,
    headers: {},
    body: {
      error: { code: 'FailedDependency', message: `request ${failed}, which this one depends on, failed` },
    },
    attempts: item.attempts,
  };
}

/** Batches of at most 20, one mailbox each (a dependency in another batch is answered before its dependents). */
function chunks(ready: Pending[]): Pending[][] {
  const byMailbox = new Map<string, Pending[]>();
  for (const item of ready) {
    const key = mailboxOf(`/v1.0${item.request.url.startsWith('/') ? '' : '/'}${item.request.url}`) ?? '';
    byMailbox.set(key, [...(byMailbox.get(key) ?? []), item]);
  }
  const out: Pending[][] = [];
  for (const items of byMailbox.values()) {
    for (let i = 0; i < items.length; i += MAX_BATCH) out.push(items.slice(i, i + MAX_BATCH));
  }
  return out;
}

function check(requests: readonly GraphBatchRequest[]): void {
  const ids = new Set<string>();
  for (const [i, r] of requests.entries()) {
    if (typeof r?.id !== 'string' || r.id === '')
      throw invalid(`requests[${i}].id must be a non-empty string`);
    if (ids.has(r.id)) throw invalid(`requests[${i}].id "${r.id}" is used twice`);
    if (typeof r.url !== 'string' || /^https?:/i.test(r.url)) {
      throw invalid(`requests[${i}].url must be relative to the version (/users/{id}/…)`);
    }
    for (const d of r.dependsOn ?? []) {
      if (!ids.has(d))
        throw invalid(`requests[${i}].dependsOn names "${d}", which is not an earlier request`);
    }
    ids.add(r.id);
  }
}

function missing(id: string): Omit<GraphBatchAnswer, 'attempts'> {
  return {
    id,
    status: 502,
    headers: {},
    body: { error: { code: 'MissingResponse', message: 'Graph gave no answer for this request' } },
  };
}

function headerOf(headers: Record<string, string>, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return undefined;
}

function invalid(message: string): PatchbayError {
  return new PatchbayError(ErrorCode.INVALID_ARGUMENT, `graph batch: ${message}`);
}
