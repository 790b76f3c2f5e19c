import { badRequest, GraphFault } from './graph-errors.js';
import { type GraphRequest, type GraphRoute, json } from './graph-route.js';
import type { FakeFolder } from './mail-types.js';
import type { Mailbox } from './mailbox.js';
import { skipOf, topOf } from './odata-query.js';
import { folderOf, jsonBody, linkTo } from './request-parts.js';

/** `mailFolders`: the top-level folders (10 a page, as Graph), one folder, child folders, and creating them. */
export function folderRoutes(): GraphRoute[] {
  return [
    {
      method: 'GET',
      pattern: 'users/:user/mailfolders',
      access: 'mail.read',
      handle: (r) => list(r, r.mailbox.root),
    },
    {
      method: 'POST',
      pattern: 'users/:user/mailfolders',
      access: 'mail.write',
      handle: (r) => create(r, r.mailbox.root),
    },
    {
      method: 'GET',
      pattern: 'users/:user/mailfolders/:folder',
      access: 'mail.read',
      handle: (r) =>
        json({
          '@odata.context': context(r),
          ...renderFolder(r.mailbox, folderOf(r.mailbox, r.params.folder!)),
        }),
    },
    {
      method: 'GET',
      pattern: 'users/:user/mailfolders/:folder/childfolders',
      access: 'mail.read',
      handle: (r) => list(r, folderOf(r.mailbox, r.params.folder!)),
    },
    {
      method: 'POST',
      pattern: 'users/:user/mailfolders/:folder/childfolders',
      access: 'mail.write',
      handle: (r) => create(r, folderOf(r.mailbox, r.params.folder!)),
    },
  ];
}

function context(request: GraphRequest): string {
  return `${request.origin}/v1.0/$metadata#users('${request.mailbox.user.id}')/mailFolders`;
}

function list(request: GraphRequest, parent: FakeFolder) {
  const { mailbox, query } = request;
  const hidden = query.get('includeHiddenFolders') === 'true';
  const children = [...mailbox.folders.values()].filter(
    (f) => f.parentFolderId === parent.id && (hidden || !f.isHidden),
  );
  const top = topOf(query, 10);
  const skip = skipOf(query);
  const body: Record<string, unknown> = {
    '@odata.context': context(request),
    value: children.slice(skip, skip + top).map((f) => renderFolder(mailbox, f)),
  };
  if (skip + top < children.length) {
    const next = new Map(query);
    next.set('$top', String(top));
    next.set('$skip', String(skip + top));
    const path =
      parent === mailbox.root
        ? `users/${mailbox.user.id}/mailFolders`
        : `users/${mailbox.user.id}/mailFolders/${parent.id}/childFolders`;
    body['@odata.nextLink'] = linkTo(request.origin, path, next);
  }
  return json(body);
}

function create(request: GraphRequest, parent: FakeFolder) {
  const { displayName } = jsonBody(request);
  if (typeof displayName !== 'string' || displayName.trim() === '') {
    throw badRequest("The property 'displayName' is required.", 'ErrorInvalidRequest');
  }
  const siblings = [...request.mailbox.folders.values()].filter((f) => f.parentFolderId === parent.id);
  if (siblings.some((f) => f.displayName.toLowerCase() === displayName.toLowerCase())) {
    throw new GraphFault(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
  }
  const folder = request.mailbox.createFolder(displayName, parent.id);
  return json({ '@odata.context': context(request), ...renderFolder(request.mailbox, folder) }, 201);
}

export function renderFolder(mailbox: Mailbox, folder: FakeFolder): Record<string, unknown> {
  const messages = mailbox.messagesIn(folder.id);
  return {
    id: folder.id,
    displayName: folder.displayName,
    parentFolderId: folder.parentFolderId,
    childFolderCount: [...mailbox.folders.values()].filter((f) => f.parentFolderId === folder.id).length,
    unreadItemCount: messages.filter((m) => !m.fields.isRead).length,
    totalItemCount: messages.length,
    sizeInBytes: messages.reduce((sum, m) => sum + m.fields.body.content.length + 1024, 0),
    isHidden: folder.isHidden,
  };
}
