import { ErrorCode, PatchbayError } from '../../../core/errors.js';
import type { HttpRequest } from '../../../http/http-types.js';
import { perPage } from './issues.js';
import { idSegment, type RepoRef, repoPath } from './repo-ref.js';

export interface HookInput {
  /** Where GitHub POSTs the events (Patchbay's `/webhooks/<source>`). */
  url: string;
  /** Signs every delivery (`X-Hub-Signature-256`). */
  secret?: string;
  /** Defaults to `json` here; GitHub's own default for an API-made hook is `form`. */
  contentType?: 'json' | 'form';
  /** Defaults to `['push']` (GitHub's default). */
  events?: string[];
  active?: boolean;
}

export interface ListDeliveriesOptions {
  /** `success` or `failure`. */
  status?: 'success' | 'failure';
  redelivery?: boolean;
  perPage?: number;
}

const hooks = (ref: RepoRef) => `${repoPath(ref)}/hooks`;
const hook = (ref: RepoRef, id: number) => `${hooks(ref)}/${idSegment('hook id', id)}`;

export function listHooksRequest(ref: RepoRef): HttpRequest {
  return { path: hooks(ref), query: { per_page: 100 } };
}

export function createHookRequest(ref: RepoRef, input: HookInput): HttpRequest {
  if (typeof input?.url !== 'string' || !/^https?:\/\//.test(input.url)) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `a GitHub hook needs an http(s) url, got ${JSON.stringify(input?.url)}`,
    );
  }
  return {
    method: 'POST',
    path: hooks(ref),
    body: {
      name: 'web',
      active: input.active ?? true,
      events: input.events ?? ['push'],
      config: {
        url: input.url,
        content_type: input.contentType ?? 'json',
        insecure_ssl: '0',
        ...(input.secret !== undefined && { secret: input.secret }),
      },
    },
  };
}

export function deleteHookRequest(ref: RepoRef, id: number): HttpRequest {
  return { method: 'DELETE', path: hook(ref, id) };
}

export function pingHookRequest(ref: RepoRef, id: number): HttpRequest {
  return { method: 'POST', path: `${hook(ref, id)}/pings` };
}

/** Newest first; GitHub pages deliveries by cursor (followed from the `link` header). */
export function listDeliveriesRequest(
  ref: RepoRef,
  id: number,
  options: ListDeliveriesOptions = {},
): HttpRequest {
  return {
    path: `${hook(ref, id)}/deliveries`,
    query: { per_page: perPage(options.perPage), status: options.status, redelivery: options.redelivery },
  };
}

/** `202 Accepted`: GitHub makes the attempt later, with the same `X-GitHub-Delivery` GUID. */
export function redeliverRequest(ref: RepoRef, id: number, deliveryId: number): HttpRequest {
  return {
    method: 'POST',
    path: `${hook(ref, id)}/deliveries/${idSegment('delivery id', deliveryId)}/attempts`,
  };
}
