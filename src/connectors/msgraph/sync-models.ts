import { z } from 'zod';
import { PatchbayError } from '../../core/errors.js';
import type { HttpClient } from '../../http/create-http-client.js';
import type { FetchContext } from '../../sync/fetch-context.js';
import type { SyncPage } from '../../sync/page.js';
import { defineSyncModel } from '../../sync/sync-model.js';
import { EXPAND_ATTACHMENTS } from './attachments.js';
import { type DeltaOptions, deltaPage, followDeltaRequest, initialDeltaRequest } from './delta.js';
import { allFolders } from './folders.js';
import { bodyPreference, messagePath } from './graph-paths.js';
import { type GraphMessage, messageSchema } from './schemas.js';
import {
  type FolderRecord,
  folderRecord,
  folderRecordSchema,
  type MessageRecord,
  messageRecord,
  messageRecordSchema,
} from './sync-records.js';

const mailbox = z
  .string({ error: 'must be the mailbox: a user id or address (address it one way everywhere)' })
  .min(1, 'must be the mailbox: a user id or address');

export const messagesOptionsSchema = z.strictObject({
  mailbox,
  /** A folder id or well-known name (`inbox`, `sentitems`, `archive`). */
  folder: z.string({ error: 'must be a folder id or well-known name (inbox)' }).min(1).default('inbox'),
  /** Read the body of each message too. Defaults to false (the preview only). */
  body: z.boolean({ error: 'must be true or false' }).default(false),
  bodyType: z.enum(['html', 'text'], { error: 'must be "html" or "text"' }).default('html'),
  /** List each message's attachments (metadata, no bytes). Defaults to true. */
  attachments: z.boolean({ error: 'must be true or false' }).default(true),
  /** `Prefer: odata.maxpagesize`. Defaults to 100. */
  pageSize: z
    .number({ error: 'must be a number of messages' })
    .int()
    .min(1, 'must be at least 1')
    .max(1000, 'must be at most 1,000')
    .default(100),
  /**
   * The id of the `msgraph` source Graph notifies of this folder's changes: the engine keeps a
   * subscription for the folder (to the source's `publicUrl`, its first secret as `clientState`) and
   * each notification starts an incremental run. Without it the folder is read on its schedule only.
   */
  notify: z.string({ error: 'must be the id of an msgraph source' }).min(1).optional(),
});

export type MessagesOptions = z.output<typeof messagesOptionsSchema>;

/**
 * Where a folder's delta read resumes: the last nextLink (mid-round, `done: false`) or deltaLink
 * (between rounds, `done: true`).
 */
export type MessagesCheckpoint = { link: string; done?: boolean };

function isDeltaCheckpoint(checkpoint: MessagesCheckpoint): boolean {
  return checkpoint.done ?? /[?&]\$deltatoken=/i.test(checkpoint.link);
}

const SELECT = [
  'id',
  'subject',
  'conversationId',
  'internetMessageId',
  'parentFolderId',
  'from',
  'toRecipients',
  'ccRecipients',
  'receivedDateTime',
  'sentDateTime',
  'lastModifiedDateTime',
  'isRead',
  'isDraft',
  'hasAttachments',
  'bodyPreview',
];
/** Properties a whole message may lack: some messages have no `conversationId` at all. */
const MAY_LACK = new Set(['id', 'conversationId']);
/** Re-reads of partially reported messages at once: Outlook's 4 a mailbox. */
const REREADS_AT_ONCE = 4;

/**
 * `msgraph.messages`: one folder's messages by delta query (G2–G4). The first run reads the folder
 * through an initial round; each page commits with the round's next link as the checkpoint, so a crash
 * resumes from the page it was on, and the last page's `@odata.deltaLink` is the checkpoint the next
 * run starts from. Links are followed verbatim (the query options live in their tokens); empty pages
 * are normal; `@removed` entries (deleted, or moved out: a moved message gets a new id in its new
 * folder) are tombstones. An update may carry only the properties that changed: such a message is read
 * again whole (a 404 then means it is gone). A 410 `SyncStateNotFound` is an expired cursor: the runner
 * starts a full read with a fresh round, whose end deletes what the lost state would have reported.
 */
export const msgraphMessages = defineSyncModel({
  name: 'msgraph.messages',
  description: "A mail folder's messages, incremental by delta query",
  options: messagesOptionsSchema,
  define: (options: MessagesOptions) => {
    const select = [...SELECT, ...(options.body ? ['body'] : [])];
    const delta: DeltaOptions = {
      select,
      pageSize: options.pageSize,
      attachments: options.attachments,
      bodyType: options.bodyType,
    };
    return {
      key: 'id',
      schema: messageRecordSchema,
      modifiedAt: 'lastModifiedAt',
      transform: (raw: GraphMessage): MessageRecord => messageRecord(raw),
      async *fetch(ctx: FetchContext): AsyncGenerator<SyncPage<GraphMessage>> {
        const start = ctx.checkpoint as MessagesCheckpoint | undefined;
        let request = start?.link
          ? followDeltaRequest(start.link, delta, ctx.signal)
          : initialDeltaRequest(options.mailbox, options.folder, delta, ctx.signal);
        // A round reports changes up to its own start: one resumed from a nextLink began before this run,
        // so its deltaLink is followed for one more round, and the run covers changes up to its start.
        let rounds = start?.link !== undefined && !isDeltaCheckpoint(start) ? 2 : 1;
        for (;;) {
          const page = await deltaPage(ctx.http, request);
          const partial = page.changed.filter((m) => select.some((p) => !MAY_LACK.has(p) && !(p in m)));
          const whole = page.changed.filter((m) => !partial.includes(m));
          const reread = await rereadWhole(ctx, options, select, partial);
          const link = (page.nextLink ?? page.deltaLink)!;
          yield {
            records: [...whole, ...reread.messages],
            deleted: [...page.removed, ...reread.gone],
            checkpoint: { link, done: page.deltaLink !== undefined },
          };
          if (page.deltaLink !== undefined && --rounds === 0) return;
          request = followDeltaRequest(link, delta, ctx.signal);
        }
      },
    };
  },
});

/** Messages a delta page reported with only their changed properties, read again whole. */
async function rereadWhole(
  ctx: FetchContext,
  options: MessagesOptions,
  select: readonly string[],
  partial: readonly GraphMessage[],
): Promise<{ messages: GraphMessage[]; gone: string[] }> {
  const messages: GraphMessage[] = [];
  const gone: string[] = [];
  for (let i = 0; i < partial.length; i += REREADS_AT_ONCE) {
    const chunk = partial.slice(i, i + REREADS_AT_ONCE);
    const read = await Promise.all(
      chunk.map((m) => readMessage(ctx.http, options, select, m.id, ctx.signal)),
    );
    read.forEach((m, j) => {
      if (m) messages.push(m);
      else gone.push(chunk[j]!.id);
    });
  }
  return { messages, gone };
}

async function readMessage(
  http: HttpClient,
  options: MessagesOptions,
  select: readonly string[],
  id: string,
  signal: AbortSignal,
): Promise<GraphMessage | undefined> {
  try {
    const { body } = await http.request({
      path: messagePath(options.mailbox, id),
      query: {
        $select: select.join(','),
        ...(options.attachments && { $expand: EXPAND_ATTACHMENTS }),
      },
      headers: { prefer: bodyPreference(options.bodyType) },
      schema: messageSchema,
      signal,
    });
    return body;
  } catch (error) {
    // Deleted or moved away since the page was made: the next round reports it removed; so do we now.
    if (error instanceof PatchbayError && error.status === 404) return undefined;
    throw error;
  }
}

/**
 * `msgraph.mailFolders`: every folder of a mailbox, child folders included. Graph has no delta for
 * message folders worth the state, and a mailbox has few: every run reads them all, and a folder not
 * seen is deleted (the sweep of a complete full read).
 */
export const msgraphMailFolders = defineSyncModel({
  name: 'msgraph.mailFolders',
  description: "A mailbox's folders (every run a full read)",
  options: z.strictObject({ mailbox }),
  define: (options: { mailbox: string }) => ({
    key: 'id',
    schema: folderRecordSchema,
    incremental: false,
    async *fetch(ctx: FetchContext): AsyncGenerator<SyncPage<FolderRecord>> {
      let records: FolderRecord[] = [];
      for await (const folder of allFolders(ctx.http, options.mailbox, ctx.signal)) {
        records.push(folderRecord(folder));
        if (records.length === 100) {
          yield { records };
          records = [];
        }
      }
      yield { records };
    },
  }),
});
