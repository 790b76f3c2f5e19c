import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { HttpClient } from '../../http/create-http-client.js';
import type { HttpRequest } from '../../http/http-types.js';
import { CursorExpiredError } from '../../sync/cursor-expired.js';
import { EXPAND_ATTACHMENTS } from './attachments.js';
import { graphCodeOf } from './errors.js';
import { bodyPreference, folderPath } from './graph-paths.js';
import { type GraphMessage, messageSchema, pageSchema } from './schemas.js';

export interface DeltaOptions {
  /** Properties to read; they stay in the round's tokens (G3). */
  select: readonly string[];
  /** `Prefer: odata.maxpagesize`. */
  pageSize: number;
  /** List the attachments' metadata with each message. */
  attachments: boolean;
  bodyType: 'html' | 'text';
}

/** One page of a folder's delta round. */
export interface DeltaPage {
  /** Messages created or changed; an updated one may carry only its changed properties (G2). */
  changed: GraphMessage[];
  /** Ids reported `@removed` (deleted, or moved to another folder). */
  removed: string[];
  /** Present on every page but the last, which has `deltaLink` instead (never both). */
  nextLink?: string;
  deltaLink?: string;
}

const deltaPageSchema = pageSchema(messageSchema);

/** The first request of an initial round; the options go into its tokens. */
export function initialDeltaRequest(
  mailbox: string,
  folder: string,
  options: DeltaOptions,
  signal?: AbortSignal,
): HttpRequest {
  return {
    path: `${folderPath(mailbox, folder)}/messages/delta`,
    query: {
      $select: options.select.join(','),
      ...(options.attachments && { $expand: EXPAND_ATTACHMENTS }),
    },
    headers: headersOf(options),
    schema: deltaPageSchema,
    ...(signal && { signal }),
  };
}

/** A nextLink or deltaLink, replayed verbatim (G2: the options are in the token). */
export function followDeltaRequest(link: string, options: DeltaOptions, signal?: AbortSignal): HttpRequest {
  return { path: link, headers: headersOf(options), schema: deltaPageSchema, ...(signal && { signal }) };
}

/**
 * One page, checked: a page with both links or neither is not a delta page. An expired sync state — 410
 * `SyncStateNotFound` (G13), or `syncStateNotFound` / `resyncRequired` (G5) — is a `CursorExpiredError`.
 */
export async function deltaPage(client: HttpClient, request: HttpRequest): Promise<DeltaPage> {
  let body: { value: GraphMessage[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
  try {
    body = (await client.request(request)).body as typeof body;
  } catch (error) {
    if (error instanceof PatchbayError && error.status === 410) {
      throw new CursorExpiredError(
        `Graph no longer has this folder's sync state (${graphCodeOf(error) ?? 410})`,
        {
          cause: error,
          status: 410,
        },
      );
    }
    throw error;
  }
  const next = body['@odata.nextLink'];
  const delta = body['@odata.deltaLink'];
  if ((next === undefined) === (delta === undefined)) {
    throw new PatchbayError(
      ErrorCode.RESPONSE_INVALID,
      `a delta page must carry @odata.nextLink or @odata.deltaLink, not ${next === undefined ? 'neither' : 'both'}`,
    );
  }
  const changed: GraphMessage[] = [];
  const removed: string[] = [];
  for (const item of body.value) {
    if (item['@removed'] !== undefined) removed.push(item.id);
    else changed.push(item);
  }
  return {
    changed,
    removed,
    ...(next !== undefined && { nextLink: next }),
    ...(delta !== undefined && { deltaLink: delta }),
  };
}

function headersOf(options: DeltaOptions): Record<string, string> {
  return { prefer: `${bodyPreference(options.bodyType)}, odata.maxpagesize=${options.pageSize}` };
}
