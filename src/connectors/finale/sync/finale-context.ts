import { durationSchema } from '../../../core/config/duration.js';
import { ErrorCode, errorMessage, isPatchbayError, PatchbayError } from '../../../core/errors.js';
import type { HttpClient } from '../../../http/create-http-client.js';
import { classifyResponse } from '../../../resilience/classification.js';
import type { SyncContext } from '../../../sync/fetch-context.js';
import { type FinaleApi, finaleApi } from '../api.js';

const apis = new WeakMap<HttpClient, FinaleApi>();

/**
 * Finale's calls over a sync's connection client. The account is the base URL's path
 * (`…/<account>/api`), so a sync model needs no option naming it.
 */
export function apiFor(ctx: SyncContext): FinaleApi {
  const client = ctx.http;
  let api = apis.get(client);
  if (!api) {
    const segments = client.baseUrl.pathname.split('/').filter(Boolean);
    const account = segments.at(-1) === 'api' ? segments.at(-2) : undefined;
    if (!account) {
      throw new PatchbayError(
        ErrorCode.CONFIG_INVALID,
        `connection ${ctx.connectionId}: a Finale base URL ends in /<account>/api, got ${client.baseUrl.pathname}`,
      );
    }
    api = finaleApi(client, { account, clock: { now: () => ctx.now() } });
    apis.set(client, api);
  }
  return api;
}

/** The id at the end of a Finale URL (`/demo/api/product/Ocean%201` → `Ocean 1`). */
export function idFromUrl(url: string): string {
  const tail = url.slice(url.lastIndexOf('/') + 1);
  try {
    return decodeURIComponent(tail);
  } catch {
    return tail;
  }
}

/** Finale's zone-less timestamps, read as UTC (as Patchbay writes them). */
export function finaleMillis(value: string | null | undefined): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value}Z`);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * A failed write's outcome: an answer `classifyResponse` calls transient (429, 503…) is retried, any
 * other answer of Finale's (a refusal of the input) is final; a failure without an answer (network,
 * timeout) is retried, our own refusal of the input (INVALID_ARGUMENT) final.
 */
export function failure(
  id: string,
  error: unknown,
): { id: string; ok: false; error: string; retryable: boolean } {
  const permanent =
    isPatchbayError(error) &&
    (error.code === ErrorCode.INVALID_ARGUMENT ||
      (error.status !== undefined &&
        classifyResponse({ status: error.status, headers: error.headers ?? {} }) !== 'transient'));
  return { id, ok: false, error: errorMessage(error), retryable: !permanent };
}

/** A change the model refuses before calling Finale: final, with why. */
export function refused(
  id: string,
  error: string,
): { id: string; ok: false; error: string; retryable: false } {
  return { id, ok: false, error, retryable: false };
}

/**
 * `lookback`: how far before the last watermark each incremental read starts. Finale's timestamps
 * have whole seconds, and a change in the second of the last read would otherwise be missed.
 */
export const lookbackOption = durationSchema('lookback').default(5000);

/** Where a Finale read resumes: changes at or after `since` (less the lookback) are read next. */
export type FinaleCheckpoint = { since: number };

/** Finale lists come whole: a sync yields them in pages of this many records. */
export const PAGE_SIZE = 500;

export function* pages<T>(records: readonly T[]): Generator<T[]> {
  for (let i = 0; i < records.length; i += PAGE_SIZE) yield records.slice(i, i + PAGE_SIZE);
}
