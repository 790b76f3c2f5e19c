import type { Readable } from 'node:stream';
import type { HttpClient } from '../../http/create-http-client.js';
import type { ConnectorContext } from '../provider.js';
import { attachmentContentRequest, listAttachmentsRequest } from './attachments.js';
import type { MsGraphSettings } from './definition.js';
import { allFolders, getFolderRequest } from './folders.js';
import { type GraphBatchAnswer, type GraphBatchRequest, graphBatch } from './graph-batch.js';
import {
  getMessageRequest,
  type ListMessagesOptions,
  listMessages,
  markReadRequest,
  moveMessageRequest,
} from './messages.js';
import type { AttachmentMeta, GraphFolder, GraphMessage } from './schemas.js';
import { type OutgoingMail, type SendMailOptions, type SendOutcome, sendMail } from './send-mail.js';

/** Defaults for idempotent sends: the client's deadline, and what Exchange needs to file a copy. */
const SEND_IN_FLIGHT_MS = 120_000;
const SEND_SETTLE_MS = 60_000;

/**
 * Graph mail as a connection gets it: typed calls over the connection's client (its token, per-mailbox
 * limits, retries). A mailbox is a user id or address; address each one the same way throughout.
 */
export class MsGraphMail {
  constructor(
    readonly client: HttpClient,
    private readonly context: ConnectorContext<MsGraphSettings>,
  ) {}

  private get bodyType() {
    return this.context.settings.bodyContentType;
  }

  /** Messages of the mailbox or of one folder, newest first, page after page. */
  listMessages(mailbox: string, options: ListMessagesOptions = {}): AsyncGenerator<GraphMessage> {
    return listMessages(this.client, mailbox, options, { bodyType: this.bodyType });
  }

  async getMessage(
    mailbox: string,
    id: string,
    options: { select?: readonly string[]; signal?: AbortSignal } = {},
  ): Promise<GraphMessage> {
    return (await this.client.request(getMessageRequest(mailbox, id, options, { bodyType: this.bodyType })))
      .body;
  }

  /** Moves a message; resolves to it under its new id. */
  async moveMessage(
    mailbox: string,
    id: string,
    destination: string,
    signal?: AbortSignal,
  ): Promise<GraphMessage> {
    return (await this.client.request(moveMessageRequest(mailbox, id, destination, signal))).body;
  }

  async markRead(mailbox: string, id: string, isRead = true, signal?: AbortSignal): Promise<void> {
    await this.client.request(markReadRequest(mailbox, id, isRead, signal));
  }

  /** The attachments of a message, without their bytes. */
  async listAttachments(mailbox: string, messageId: string, signal?: AbortSignal): Promise<AttachmentMeta[]> {
    return (await this.client.request(listAttachmentsRequest(mailbox, messageId, signal))).body.value;
  }

  /**
   * An attachment's bytes as a stream, failing with `RESPONSE_TOO_LARGE` past `maxBytes` (by default the
   * connection's `maxAttachmentBytes`).
   */
  async downloadAttachment(
    mailbox: string,
    messageId: string,
    attachmentId: string,
    options: { maxBytes?: number; signal?: AbortSignal } = {},
  ): Promise<Readable> {
    const maxBytes = options.maxBytes ?? this.context.settings.maxAttachmentBytes;
    const request = attachmentContentRequest(mailbox, messageId, attachmentId, maxBytes, options.signal);
    return (await this.client.request(request)).body;
  }

  /** Every folder of the mailbox, child folders included. */
  folders(mailbox: string, signal?: AbortSignal): AsyncGenerator<GraphFolder> {
    return allFolders(this.client, mailbox, signal);
  }

  async getFolder(mailbox: string, folder: string, signal?: AbortSignal): Promise<GraphFolder> {
    return (await this.client.request(getFolderRequest(mailbox, folder, signal))).body;
  }

  /** Sends mail; with `idempotencyKey`, once, across retries and crashes (see `sendMail`). */
  sendMail(mailbox: string, mail: OutgoingMail, options: SendMailOptions = {}): Promise<SendOutcome> {
    return sendMail(
      {
        client: this.client,
        clock: this.context.clock,
        connectionId: this.context.connectionId,
        ledger: this.context.sendLedger,
        inFlightMs: this.context.sends?.inFlightMs ?? SEND_IN_FLIGHT_MS,
        settleMs: this.context.sends?.settleMs ?? SEND_SETTLE_MS,
      },
      mailbox,
      mail,
      options,
    );
  }

  /** Requests through `$batch`, throttled ones retried per item (see `graphBatch`). */
  batch(
    requests: readonly GraphBatchRequest[],
    options: { signal?: AbortSignal; maxAttempts?: number } = {},
  ): Promise<GraphBatchAnswer[]> {
    return graphBatch(this.client, requests, { clock: this.context.clock, ...options });
  }
}
