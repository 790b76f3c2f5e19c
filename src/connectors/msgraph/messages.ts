import type { HttpClient } from '../../http/create-http-client.js';
import type { HttpRequest } from '../../http/http-types.js';
import { paginate } from '../../http/paginate.js';
import { bodyPreference, folderPath, messagePath, userPath } from './graph-paths.js';
import { type GraphMessage, messageSchema, pageSchema } from './schemas.js';

export interface ListMessagesOptions {
  /** A folder id or well-known name; the whole mailbox when absent. */
  folder?: string;
  /** Properties to read (`$select`); Graph's default set when absent. */
  select?: readonly string[];
  /** A `$filter` expression (`receivedDateTime ge 2024-01-01T00:00:00Z`). */
  filter?: string;
  /** Messages a page, 1–1,000. Defaults to 100. */
  pageSize?: number;
  signal?: AbortSignal;
}

export interface MessageCallOptions {
  bodyType: 'html' | 'text';
}

/** `GET …/messages`: the first page's request; the others follow `@odata.nextLink` verbatim. */
export function listMessagesRequest(
  mailbox: string,
  options: ListMessagesOptions,
  call: MessageCallOptions,
): HttpRequest {
  const base = options.folder === undefined ? userPath(mailbox) : folderPath(mailbox, options.folder);
  return {
    path: `${base}/messages`,
    query: {
      $top: options.pageSize ?? 100,
      ...(options.select && { $select: options.select.join(',') }),
      ...(options.filter !== undefined && { $filter: options.filter }),
    },
    headers: { prefer: bodyPreference(call.bodyType) },
    ...(options.signal && { signal: options.signal }),
  };
}

export async function* listMessages(
  client: HttpClient,
  mailbox: string,
  options: ListMessagesOptions,
  call: MessageCallOptions,
): AsyncGenerator<GraphMessage> {
  for await (const raw of paginate(client, listMessagesRequest(mailbox, options, call), { kind: 'odata' })) {
    yield messageSchema.parse(raw);
  }
}

export function getMessageRequest(
  mailbox: string,
  id: string,
  options: { select?: readonly string[]; signal?: AbortSignal },
  call: MessageCallOptions,
): HttpRequest<GraphMessage> {
  return {
    path: messagePath(mailbox, id),
    ...(options.select && { query: { $select: options.select.join(',') } }),
    headers: { prefer: bodyPreference(call.bodyType) },
    schema: messageSchema,
    ...(options.signal && { signal: options.signal }),
  };
}

/** `POST …/move`: 201 with the message as it now is — under a new id (Exchange gives moved items one). */
export function moveMessageRequest(
  mailbox: string,
  id: string,
  destination: string,
  signal?: AbortSignal,
): HttpRequest<GraphMessage> {
  return {
    method: 'POST',
    path: `${messagePath(mailbox, id)}/move`,
    body: { destinationId: destination },
    schema: messageSchema,
    ...(signal && { signal }),
  };
}

export function markReadRequest(
  mailbox: string,
  id: string,
  isRead: boolean,
  signal?: AbortSignal,
): HttpRequest<GraphMessage> {
  return {
    method: 'PATCH',
    path: messagePath(mailbox, id),
    query: { $select: 'id,isRead' },
    body: { isRead },
    schema: messageSchema,
    ...(signal && { signal }),
  };
}

export { pageSchema };
