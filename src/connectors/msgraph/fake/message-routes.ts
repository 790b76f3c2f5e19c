import { badRequest, notFound } from './graph-errors.js';
import { type GraphRequest, type GraphRoute, json } from './graph-route.js';
import type { FakeMessage, MessageFields } from './mail-types.js';
import { filterView, MESSAGE_PROPERTIES, renderAttachment, renderMessage } from './message-view.js';
import { evaluate } from './odata-filter.js';
import { attachmentSelect, expandOf, filterOf, selectOf, skipOf, topOf } from './odata-query.js';
import { folderOf, jsonBody, linkTo, messageOf } from './request-parts.js';

const FILTERABLE = new Set<string>([...MESSAGE_PROPERTIES, 'singleValueExtendedProperties']);
const ORDERABLE = new Set([
  'receivedDateTime',
  'sentDateTime',
  'createdDateTime',
  'lastModifiedDateTime',
  'subject',
  'importance',
]);

/** Properties a PATCH may change on any message, and those only a draft's PATCH may (message-update.md). */
const UPDATABLE = new Set(['isRead', 'categories', 'importance', 'flag', 'inferenceClassification']);
const DRAFT_ONLY = new Set([
  'subject',
  'body',
  'toRecipients',
  'ccRecipients',
  'bccRecipients',
  'replyTo',
  'from',
  'sender',
]);

/** Message routes, each under `users/:user/messages/…` and `users/:user/mailfolders/:folder/messages/…`. */
export function messageRoutes(): GraphRoute[] {
  const routes: GraphRoute[] = [];
  for (const base of ['users/:user/messages', 'users/:user/mailfolders/:folder/messages']) {
    routes.push(
      { method: 'GET', pattern: base, access: 'mail.read', handle: list },
      { method: 'GET', pattern: `${base}/:message`, access: 'mail.read', handle: get },
      { method: 'PATCH', pattern: `${base}/:message`, access: 'mail.write', handle: patch },
      { method: 'DELETE', pattern: `${base}/:message`, access: 'mail.write', handle: remove },
      { method: 'POST', pattern: `${base}/:message/move`, access: 'mail.write', handle: move },
      { method: 'GET', pattern: `${base}/:message/attachments`, access: 'mail.read', handle: attachments },
      {
        method: 'GET',
        pattern: `${base}/:message/attachments/:attachment`,
        access: 'mail.read',
        handle: attachment,
      },
      {
        method: 'GET',
        pattern: `${base}/:message/attachments/:attachment/$value`,
        access: 'mail.read',
        handle: attachmentValue,
      },
    );
  }
  return routes;
}

function view(request: GraphRequest, message: FakeMessage) {
  return renderMessage(message, {
    select: selectOf(request.query),
    bodyType: request.prefer.bodyType,
    immutableIds: request.prefer.immutableIds,
    ...expandOf(request.query),
  });
}

function preferenceHeaders(request: GraphRequest): Record<string, string> | undefined {
  return request.prefer.applied.length > 0
    ? { 'Preference-Applied': request.prefer.applied.join(',') }
    : undefined;
}

/** A page of messages: newest first by default, 10 a page, `$top` up to 1,000, `$skip` in the nextLink. */
function list(request: GraphRequest) {
  const { mailbox, params, query } = request;
  const folder = params.folder === undefined ? undefined : folderOf(mailbox, params.folder);
  const select = selectOf(query);
  const filter = filterOf(query, FILTERABLE);
  const top = topOf(query, 10);
  const skip = skipOf(query);
  const expand = expandOf(query);
  let items = mailbox.messagesIn(folder?.id);
  if (filter) items = items.filter((m) => evaluate(filter, filterView(m)));
  items.sort(orderOf(query.get('$orderby')));
  const page = items.slice(skip, skip + top);
  const path = folder
    ? `users/${mailbox.user.id}/mailFolders/${folder.id}/messages`
    : `users/${mailbox.user.id}/messages`;
  const body: Record<string, unknown> = {
    '@odata.context': `${request.origin}/v1.0/$metadata#users('${mailbox.user.id}')/${folder ? `mailFolders('${folder.id}')/` : ''}messages${select ? `(${[...select].join(',')})` : ''}`,
  };
  if (query.get('$count') === 'true') body['@odata.count'] = items.length;
  body.value = page.map((m) =>
    renderMessage(m, {
      select,
      bodyType: request.prefer.bodyType,
      immutableIds: request.prefer.immutableIds,
      ...expand,
    }),
  );
  if (skip + top < items.length) {
    const next = new Map(query);
    next.set('$top', String(top));
    next.set('$skip', String(skip + top));
    body['@odata.nextLink'] = linkTo(request.origin, path, next);
  }
  return json(body, 200, preferenceHeaders(request));
}

function orderOf(raw: string | undefined): (a: FakeMessage, b: FakeMessage) => number {
  const [property = 'receivedDateTime', direction = 'desc'] = (raw ?? 'receivedDateTime desc')
    .trim()
    .split(/\s+/);
  if (!ORDERABLE.has(property) || !/^(asc|desc)$/i.test(direction)) {
    throw badRequest(`The $orderby expression '${raw}' is not supported.`, 'ErrorInvalidUrlQuery');
  }
  const sign = direction.toLowerCase() === 'asc' ? 1 : -1;
  const key = (m: FakeMessage): number | string => {
    switch (property) {
      case 'subject':
        return m.fields.subject.toLowerCase();
      case 'importance':
        return ['low', 'normal', 'high'].indexOf(m.fields.importance);
      case 'sentDateTime':
        return m.sentAt ?? 0;
      case 'createdDateTime':
        return m.createdAt;
      case 'lastModifiedDateTime':
        return m.lastModifiedAt;
      default:
        return m.receivedAt;
    }
  };
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -sign : ka > kb ? sign : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  };
}

function get(request: GraphRequest) {
  const message = messageOf(request.mailbox, request.params.message!, request.params.folder);
  return json(view(request, message), 200, preferenceHeaders(request));
}

function patch(request: GraphRequest) {
  const message = messageOf(request.mailbox, request.params.message!, request.params.folder);
  const body = jsonBody(request);
  const changes: Partial<MessageFields> = {};
  for (const [name, value] of Object.entries(body)) {
    if (!UPDATABLE.has(name) && !DRAFT_ONLY.has(name)) {
      throw badRequest(
        `Invalid property '${name}' for an update of microsoft.graph.message.`,
        'ErrorInvalidProperty',
      );
    }
    if (DRAFT_ONLY.has(name) && !message.fields.isDraft) {
      throw badRequest(
        'Update operation is not supported for this property on a sent or received message.',
        'ErrorInvalidPropertyUpdateSentMessage',
      );
    }
    (changes as Record<string, unknown>)[name] = checkValue(name, value);
  }
  request.mailbox.update(message, changes);
  return json(view(request, message));
}

function checkValue(name: string, value: unknown): unknown {
  const bad = () => badRequest(`Invalid value for property '${name}'.`, 'ErrorInvalidProperty');
  switch (name) {
    case 'isRead':
      if (typeof value !== 'boolean') throw bad();
      return value;
    case 'categories':
      if (!Array.isArray(value) || value.some((c) => typeof c !== 'string')) throw bad();
      return value;
    case 'importance':
      if (value !== 'low' && value !== 'normal' && value !== 'high') throw bad();
      return value;
    case 'inferenceClassification':
      if (value !== 'focused' && value !== 'other') throw bad();
      return value;
    case 'flag': {
      const status = (value as { flagStatus?: unknown } | null)?.flagStatus;
      if (status !== 'notFlagged' && status !== 'flagged' && status !== 'complete') throw bad();
      return { flagStatus: status };
    }
    case 'subject':
      if (typeof value !== 'string') throw bad();
      return value;
    default:
      return value;
  }
}

function remove(request: GraphRequest) {
  const message = messageOf(request.mailbox, request.params.message!, request.params.folder);
  request.mailbox.remove(message);
  return { status: 204 };
}

/** `POST …/move { destinationId }`: 201 with the message as it is now, under its new id. */
function move(request: GraphRequest) {
  const message = messageOf(request.mailbox, request.params.message!, request.params.folder);
  const { destinationId } = jsonBody(request);
  if (typeof destinationId !== 'string' || destinationId === '') {
    throw badRequest("The property 'destinationId' is required.", 'ErrorInvalidRequest');
  }
  const destination = folderOf(request.mailbox, destinationId);
  request.mailbox.move(message, destination.id);
  return json(view(request, message), 201);
}

function attachments(request: GraphRequest) {
  const message = messageOf(request.mailbox, request.params.message!, request.params.folder);
  return json({
    '@odata.context': `${request.origin}/v1.0/$metadata#users('${request.mailbox.user.id}')/messages('${message.id}')/attachments`,
    value: message.attachments.map((a) => renderAttachment(a, attachmentSelectOf(request))),
  });
}

function attachmentSelectOf(request: GraphRequest): Set<string> | undefined {
  const raw = request.query.get('$select');
  return raw === undefined ? undefined : attachmentSelect(raw);
}

function attachmentOf(request: GraphRequest) {
  const message = messageOf(request.mailbox, request.params.message!, request.params.folder);
  const found = message.attachments.find((a) => a.id === request.params.attachment);
  if (!found) throw notFound();
  return found;
}

function attachment(request: GraphRequest) {
  return json(renderAttachment(attachmentOf(request), attachmentSelectOf(request)));
}

/** `…/attachments/{id}/$value`: the raw bytes (message-list-attachments.md). */
function attachmentValue(request: GraphRequest) {
  const found = attachmentOf(request);
  return { status: 200, raw: { bytes: found.bytes, contentType: found.contentType } };
}
