import type { z } from 'zod';
import { ErrorCode, errorMessage, PatchbayError } from '../../core/errors.js';
import { batch } from '../../http/batch.js';
import type { HttpRequest } from '../../http/http-types.js';
import {
  BATCH_SIZE,
  type BatchFailure,
  type BatchResultItem,
  type BatchWrite,
  batchWriteRequest,
  processBatch,
  type WriteInput,
} from './calls/batch.js';
import type { HubSpotProperties } from './hubspot-properties.js';
import type { batchResultSchema } from './schemas.js';
import type { Send } from './send.js';

/**
 * What a batch call did with each input (the PARTIAL class): the records of the inputs that succeeded,
 * the failures of those that did not, each by its index in the list given.
 */
export interface HubSpotBatchResult {
  /** `success`: every input; `partial`: some; `failed`: none. */
  outcome: 'success' | 'partial' | 'failed';
  results: BatchResultItem[];
  failures: BatchFailure[];
  /** A `PARTIAL` error summing up the failures (undefined on success), for callers that prefer to throw. */
  error: PatchbayError | undefined;
}

export interface BatchOptions {
  /** Chunks of 100 in flight at once. Defaults to 2 (the rate limit paces them anyway). */
  concurrency?: number;
  signal?: AbortSignal;
}

type Body = z.output<typeof batchResultSchema>;

/**
 * Runs a batch call over any number of inputs in chunks of 100 (a caller's 250 are three requests, not
 * a refusal). A chunk that fails as a whole (its request refused or out of retries) fails each of its
 * inputs with the error's code.
 */
export async function runBatch<I extends { id?: string }>(
  send: Send,
  objectType: string,
  inputs: readonly I[],
  request: (chunk: I[]) => HttpRequest<Body>,
  options: BatchOptions & { idProperty?: string } = {},
): Promise<HubSpotBatchResult> {
  const answered = await batch<I, { results: BatchResultItem[]; failures: BatchFailure[] }>(inputs, {
    size: BATCH_SIZE,
    concurrency: options.concurrency ?? 2,
    send: async (chunk) => {
      const body = await send(request(chunk), { signal: options.signal, objectType });
      return { status: 200, headers: {}, body, partial: false, attempts: 1 };
    },
    read: (response, chunk, index) => {
      const processed = processBatch(response.body as Body, chunk, index * BATCH_SIZE, options.idProperty);
      return { results: [processed], errors: [] };
    },
  });
  const results: BatchResultItem[] = [];
  const failures: BatchFailure[] = [];
  for (const part of answered.results) {
    results.push(...part.results);
    failures.push(...part.failures);
  }
  for (const chunk of answered.failedChunks) {
    const code = chunk.error instanceof PatchbayError ? chunk.error.code : ErrorCode.INTERNAL;
    chunk.items.forEach((item, i) => {
      failures.push({
        index: chunk.index * BATCH_SIZE + i,
        ...(item.id !== undefined && { id: item.id }),
        category: code,
        message: errorMessage(chunk.error),
      });
    });
  }
  return summarize(inputs.length, results, failures);
}

/**
 * A batch write; with `createMissingProperties`, inputs that failed only for properties the type lacks
 * are retried once after those properties are created (as strings).
 */
export async function writeBatch(
  send: Send,
  properties: HubSpotProperties,
  objectType: string,
  kind: BatchWrite,
  inputs: readonly WriteInput[],
  options: BatchOptions & { createMissingProperties?: boolean } = {},
): Promise<HubSpotBatchResult> {
  const first = await runBatch(
    send,
    objectType,
    inputs,
    (chunk) => batchWriteRequest(objectType, kind, chunk),
    options,
  );
  const missing = first.failures.filter((f) => f.unknownProperties?.length);
  if (!options.createMissingProperties || missing.length === 0) return first;
  const names = [...new Set(missing.flatMap((f) => f.unknownProperties!))];
  await properties.ensure(objectType, names, options.signal);
  const again = missing.map((f) => f.index);
  const second = await runBatch(
    send,
    objectType,
    again.map((i) => inputs[i]!),
    (chunk) => batchWriteRequest(objectType, kind, chunk),
    options,
  );
  const retried = new Set(again);
  return summarize(
    inputs.length,
    [...first.results, ...second.results.map((r) => ({ ...r, index: again[r.index]! }))],
    [
      ...first.failures.filter((f) => !retried.has(f.index)),
      ...second.failures.map((f) => ({ ...f, index: again[f.index]! })),
    ],
  );
}

function summarize(total: number, results: BatchResultItem[], failures: BatchFailure[]): HubSpotBatchResult {
  results.sort((a, b) => a.index - b.index);
  failures.sort((a, b) => a.index - b.index);
  const outcome =
    failures.length === 0 ? 'success' : results.length === 0 && total > 0 ? 'failed' : 'partial';
  const categories = [...new Set(failures.map((f) => f.category))].join(', ');
  const error =
    failures.length === 0
      ? undefined
      : new PatchbayError(
          ErrorCode.PARTIAL,
          `HubSpot batch of ${total}: ${failures.length} failed (${categories}); first: ${failures[0]!.message.slice(0, 200)}`,
          { data: { failed: failures.length, succeeded: results.length } },
        );
  return { outcome, results, failures, error };
}
