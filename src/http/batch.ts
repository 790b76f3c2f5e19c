import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import { checkFunction, checkInteger } from '../resilience/options.js';
import type { HttpResponse } from './http-types.js';

export interface BatchOptions<I, R> {
  /** Items per request (HubSpot batch endpoints: 100; Graph `$batch`: 20). */
  size: number;
  /** Sends one chunk, usually `client.request({ method: 'POST', path, body: { inputs: chunk } })`. */
  send: (chunk: I[], index: number) => Promise<HttpResponse>;
  /**
   * Splits one answer into results and per-item errors. Defaults to HubSpot's `{ results, errors }` and
   * Graph's `$batch` `{ responses: [{ status }] }` (a sub-response of 400 or more is an item error).
   */
  read?: (response: HttpResponse, chunk: I[], index: number) => { results: R[]; errors: unknown[] };
  /** Chunks in flight at once. Defaults to 1 (the client's rate limit still applies to each). */
  concurrency?: number;
}

export interface FailedChunk<I> {
  index: number;
  items: I[];
  error: unknown;
}

export interface BatchResult<I, R> {
  /** `success` when nothing failed, `partial` when some did, `failed` when nothing succeeded. */
  outcome: 'success' | 'partial' | 'failed';
  results: R[];
  /** Per-item errors reported inside answers that succeeded as a whole (207, Graph sub-responses). */
  itemErrors: unknown[];
  /** Chunks whose request failed as a whole, with their items, so the caller can retry or park them. */
  failedChunks: FailedChunk<I>[];
  /** A `PARTIAL` error summing up what failed (undefined on success), for callers that prefer to throw. */
  error: PatchbayError | undefined;
}

/**
 * Sends `items` in chunks of `size` and collects what succeeded and what failed, instead of failing the
 * whole batch on the first bad chunk or item.
 */
export async function batch<I, R = unknown>(
  items: readonly I[],
  options: BatchOptions<I, R>,
): Promise<BatchResult<I, R>> {
  const size = checkInteger('batch.size', options.size, 1);
  const concurrency = checkInteger('batch.concurrency', options.concurrency ?? 1, 1, 1000);
  checkFunction('batch.send', options.send);
  const read =
    options.read ?? (defaultRead as (response: HttpResponse) => { results: R[]; errors: unknown[] });
  const chunks: I[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  const perChunk: ({ results: R[]; errors: unknown[] } | FailedChunk<I>)[] = new Array(chunks.length);
  let nextIndex = 0;
  const worker = async () => {
    for (let index = nextIndex++; index < chunks.length; index = nextIndex++) {
      const chunk = chunks[index]!;
      try {
        perChunk[index] = read(await options.send(chunk, index), chunk, index);
      } catch (error) {
        perChunk[index] = { index, items: chunk, error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chunks.length) }, worker));

  const results: R[] = [];
  const itemErrors: unknown[] = [];
  const failedChunks: FailedChunk<I>[] = [];
  for (const entry of perChunk) {
    if ('error' in entry) failedChunks.push(entry);
    else {
      results.push(...entry.results);
      itemErrors.push(...entry.errors);
    }
  }
  const failedItems = failedChunks.reduce((n, c) => n + c.items.length, 0);
  const anyFailure = failedChunks.length > 0 || itemErrors.length > 0;
  const outcome = !anyFailure ? 'success' : results.length === 0 ? 'failed' : 'partial';
  const error = anyFailure
    ? new PatchbayError(
        ErrorCode.PARTIAL,
        `batch of ${items.length} items: ${failedChunks.length} of ${chunks.length} chunks failed (${failedItems} items)` +
          `, ${itemErrors.length} item errors` +
          (failedChunks[0] ? `; first: ${errorMessage(failedChunks[0].error)}` : ''),
        {
          data: {
            failedChunks: failedChunks.length,
            failedItems,
            itemErrors: itemErrors.length,
            results: results.length,
          },
        },
      )
    : undefined;
  return { outcome, results, itemErrors, failedChunks, error };
}

function defaultRead(response: HttpResponse): { results: unknown[]; errors: unknown[] } {
  const body = response.body;
  if (typeof body !== 'object' || body === null) return { results: [], errors: [] };
  if (Array.isArray(body)) return { results: body, errors: [] };
  const record = body as Record<string, unknown>;
  if (Array.isArray(record.responses)) {
    const results: unknown[] = [];
    const errors: unknown[] = [];
    for (const r of record.responses) {
      const status = (r as { status?: unknown })?.status;
      (typeof status === 'number' && status >= 400 ? errors : results).push(r);
    }
    return { results, errors };
  }
  return {
    results: Array.isArray(record.results) ? record.results : [],
    errors: Array.isArray(record.errors) ? record.errors : [],
  };
}
