import type { HttpClient } from '../../http/create-http-client.js';
import type { HttpRequest } from '../../http/http-types.js';
import { paginate } from '../../http/paginate.js';
import { folderPath, userPath } from './graph-paths.js';
import { folderSchema, type GraphFolder } from './schemas.js';

const FOLDER_FIELDS =
  'id,displayName,parentFolderId,childFolderCount,unreadItemCount,totalItemCount,isHidden';

/** `GET …/mailFolders` (top level) or `…/mailFolders/{id}/childFolders`, 100 a page. */
export function listFoldersRequest(
  mailbox: string,
  parent: string | undefined,
  signal?: AbortSignal,
): HttpRequest {
  return {
    path:
      parent === undefined
        ? `${userPath(mailbox)}/mailFolders`
        : `${folderPath(mailbox, parent)}/childFolders`,
    query: { $top: 100, $select: FOLDER_FIELDS },
    ...(signal && { signal }),
  };
}

export function getFolderRequest(
  mailbox: string,
  folder: string,
  signal?: AbortSignal,
): HttpRequest<GraphFolder> {
  return {
    path: folderPath(mailbox, folder),
    query: { $select: FOLDER_FIELDS },
    schema: folderSchema,
    ...(signal && { signal }),
  };
}

/** Every folder of the mailbox, child folders included, parents before their children. */
export async function* allFolders(
  client: HttpClient,
  mailbox: string,
  signal?: AbortSignal,
): AsyncGenerator<GraphFolder> {
  const parents: Array<string | undefined> = [undefined];
  while (parents.length > 0) {
    const parent = parents.shift();
    for await (const raw of paginate(client, listFoldersRequest(mailbox, parent, signal), {
      kind: 'odata',
    })) {
      const folder = folderSchema.parse(raw);
      yield folder;
      if ((folder.childFolderCount ?? 0) > 0) parents.push(folder.id);
    }
  }
}
