/**
 * Paths of Graph's mail API, each segment escaped (Exchange ids end in `=`, addresses hold `@`). A
 * mailbox is a user id or address; a folder an id or a well-known name (`inbox`, `sentitems`, `archive`).
 */
export const userPath = (mailbox: string) => `/v1.0/users/${encodeURIComponent(mailbox)}`;

export const folderPath = (mailbox: string, folder: string) =>
  `${userPath(mailbox)}/mailFolders/${encodeURIComponent(folder)}`;

export const messagePath = (mailbox: string, id: string) =>
  `${userPath(mailbox)}/messages/${encodeURIComponent(id)}`;

/** The same paths relative to the version, as `$batch` requests name them. */
export const batchUrl = (path: string) => path.replace(/^\/v1\.0/, '');

/** `Prefer` for bodies in the connection's chosen type (user-list-messages.md). */
export const bodyPreference = (type: 'html' | 'text') => `outlook.body-content-type="${type}"`;
