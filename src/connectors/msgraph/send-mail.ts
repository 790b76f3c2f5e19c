import type { Clock } from '../../core/clock.js';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { HttpClient } from '../../http/create-http-client.js';
import type { HttpRequest } from '../../http/http-types.js';
import type { SendLedger } from '../send-ledger.js';
import { sendRefused } from './errors.js';
import { folderPath, userPath } from './graph-paths.js';
import { messageSchema, pageSchema } from './schemas.js';

/** A message to send, addresses as strings. */
export interface OutgoingMail {
  subject: string;
  body: { contentType: 'Text' | 'HTML'; content: string };
  to: readonly string[];
  cc?: readonly string[];
  bcc?: readonly string[];
  replyTo?: readonly string[];
  /** Send as another address (the mailbox needs Send As on it). */
  from?: string;
  importance?: 'low' | 'normal' | 'high';
  /** Custom headers; names must start with `x-` (Graph refuses others). */
  headers?: Readonly<Record<string, string>>;
  attachments?: ReadonlyArray<{ name: string; contentType?: string; content: Buffer | string }>;
}

export interface SendMailOptions {
  /**
   * Sends the message once for this key, even across a retry or a crash between the send and its
   * answer: the message is marked with it, and a later attempt looks in Sent Items before sending.
   */
  idempotencyKey?: string;
  /** Defaults to true; an idempotent send always keeps its copy (the look-up needs it). */
  saveToSentItems?: boolean;
  signal?: AbortSignal;
}

export type SendOutcome =
  | { status: 'sent' }
  /** An earlier attempt with this key went out: found in Sent Items or in the ledger. */
  | { status: 'already-sent'; messageId?: string };

export interface SendContext {
  client: HttpClient;
  clock: Clock;
  connectionId: string;
  ledger: SendLedger | undefined;
  /** Longest one send attempt can take (the client's deadline): until then it may still be in flight. */
  inFlightMs: number;
  /**
   * How long after Graph accepted a send its copy may take to show in Sent Items, in ms (Exchange files
   * it shortly after the 202): a look-up that finds nothing is trusted only after it.
   */
  settleMs: number;
}

/** The extended property (PS_PUBLIC_STRINGS-style named property of Patchbay's own GUID) carrying the key. */
export const IDEMPOTENCY_PROPERTY =
  'String {3e8f2a4c-7b1d-4c55-9a0e-2f6d8b1c5e70} Name PatchbayIdempotencyKey';
/** The internet header carrying the key to the recipients (custom headers must start with x-). */
export const IDEMPOTENCY_HEADER = 'X-Patchbay-Idempotency-Key';

const KEY = /^[\x21-\x7e]{1,200}$/;
const LOOK_INTERVAL_MS = 2_000;

/** The `sendMail` request (user-sendmail.md): 202 with no body on success. */
export function sendMailRequest(
  mailbox: string,
  mail: OutgoingMail,
  options: { key?: string; saveToSentItems: boolean; signal?: AbortSignal },
): HttpRequest {
  const recipients = (list: readonly string[] | undefined) =>
    (list ?? []).map((address) => ({ emailAddress: { address } }));
  const headers = Object.entries(mail.headers ?? {}).map(([name, value]) => ({ name, value }));
  if (options.key !== undefined) headers.push({ name: IDEMPOTENCY_HEADER, value: options.key });
  const message: Record<string, unknown> = {
    subject: mail.subject,
    body: mail.body,
    toRecipients: recipients(mail.to),
    ...(mail.cc && { ccRecipients: recipients(mail.cc) }),
    ...(mail.bcc && { bccRecipients: recipients(mail.bcc) }),
    ...(mail.replyTo && { replyTo: recipients(mail.replyTo) }),
    ...(mail.from && { from: { emailAddress: { address: mail.from } } }),
    ...(mail.importance && { importance: mail.importance }),
    ...(headers.length > 0 && { internetMessageHeaders: headers }),
    ...(options.key !== undefined && {
      singleValueExtendedProperties: [{ id: IDEMPOTENCY_PROPERTY, value: options.key }],
    }),
    ...(mail.attachments && {
      attachments: mail.attachments.map((a) => ({
        '@odata.type': '#microsoft.graph.fileAttachment',
        name: a.name,
        contentType: a.contentType ?? 'application/octet-stream',
        contentBytes: Buffer.from(a.content).toString('base64'),
      })),
    }),
  };
  return {
    method: 'POST',
    path: `${userPath(mailbox)}/sendMail`,
    body: { message, saveToSentItems: options.saveToSentItems },
    ...(options.signal && { signal: options.signal }),
  };
}

/** Sent Items filtered on the key's extended property (singlevaluelegacyextendedproperty-get.md). */
export function findSentRequest(mailbox: string, key: string, signal?: AbortSignal): HttpRequest {
  const literal = (value: string) => `'${value.replace(/'/g, "''")}'`;
  return {
    path: `${folderPath(mailbox, 'sentitems')}/messages`,
    query: {
      $filter: `singleValueExtendedProperties/any(ep: ep/id eq ${literal(IDEMPOTENCY_PROPERTY)} and ep/value eq ${literal(key)})`,
      $select: 'id,sentDateTime',
      $top: 1,
    },
    schema: pageSchema(messageSchema),
    ...(signal && { signal }),
  };
}

/**
 * Sends a message from `mailbox`. With an idempotency key it goes out once: the key is claimed in the
 * ledger (durably) before the send leaves and rides in the message. An attempt that finds an earlier,
 * unsettled claim looks for the key in Sent Items first — found, the send is settled as done; not found
 * once the earlier attempt can no longer be in flight nor its copy unfiled, it sends; before then it fails
 * with `OUTCOME_UNKNOWN` and a `retryAfterMs` (retrying is safe). A refusal frees the key; one for want of
 * permission is a permanent `PERMISSION_DENIED` that says what to grant.
 */
export async function sendMail(
  ctx: SendContext,
  mailbox: string,
  mail: OutgoingMail,
  options: SendMailOptions = {},
): Promise<SendOutcome> {
  const key = options.idempotencyKey;
  const signal = options.signal;
  if (key === undefined) {
    await send(ctx, mailbox, mail, {
      saveToSentItems: options.saveToSentItems ?? true,
      ...(signal && { signal }),
    });
    return { status: 'sent' };
  }
  if (!KEY.test(key)) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      'idempotencyKey must be 1–200 visible ASCII characters',
    );
  }
  if (options.saveToSentItems === false) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      'an idempotent send keeps its copy in Sent Items (that is where a retry looks): drop saveToSentItems: false',
    );
  }
  const ledger = ctx.ledger;
  if (!ledger) {
    throw new PatchbayError(
      ErrorCode.CONFIG_INVALID,
      'idempotent sends need the engine’s store (the connection’s client was built without a send ledger)',
    );
  }
  const scope = `msgraph:${ctx.connectionId}:${mailbox.toLowerCase()}`;
  const claim = await ledger.claim(scope, key, ctx.clock.now());
  let attemptAt: number;
  if (claim.claimed) attemptAt = claim.attemptAt;
  else {
    const { entry } = claim;
    if (entry.state === 'done') return { status: 'already-sent', ...(entry.result as object) };
    const found = await findSent(ctx, mailbox, key, signal);
    const now = ctx.clock.now();
    if (found !== undefined) {
      await ledger.complete(scope, key, { messageId: found }, now);
      return { status: 'already-sent', messageId: found };
    }
    const trustedAt = entry.attemptAt + ctx.inFlightMs + ctx.settleMs;
    if (now < trustedAt) throw unknown(key, Math.min(trustedAt - now, LOOK_INTERVAL_MS));
    // Of two processes taking the attempt over, one wins; the other looks again later.
    if (!(await ledger.retake(scope, key, entry.attemptAt, now))) throw unknown(key, LOOK_INTERVAL_MS);
    attemptAt = now;
  }
  try {
    await send(ctx, mailbox, mail, { key, saveToSentItems: true, ...(signal && { signal }) });
  } catch (error) {
    // A refusal, or a connection that was never made, sent nothing: the key is free again. Anything
    // else (a timeout, a lost answer, a 5xx) may have gone out and stays pending.
    if (nothingSent(error)) await ledger.release(scope, key, attemptAt).catch(() => undefined);
    throw error;
  }
  await ledger.complete(scope, key, {}, ctx.clock.now());
  return { status: 'sent' };
}

function nothingSent(error: unknown): boolean {
  if (!(error instanceof PatchbayError)) return false;
  // A connection refused on every attempt: NETWORK_ERROR, or RETRIES_EXHAUSTED after the client's retries.
  if (error.notSent === true) return true;
  const status = error.status;
  return status !== undefined && status >= 400 && status < 500 && status !== 408;
}

function unknown(key: string, retryAfterMs: number): PatchbayError {
  return new PatchbayError(
    ErrorCode.OUTCOME_UNKNOWN,
    `an earlier send with idempotency key "${key}" may have gone out and its copy is not in Sent Items yet; ask again later (it will not be sent twice)`,
    { retryAfterMs, classification: 'transient' },
  );
}

async function send(
  ctx: SendContext,
  mailbox: string,
  mail: OutgoingMail,
  options: { key?: string; saveToSentItems: boolean; signal?: AbortSignal },
): Promise<void> {
  try {
    await ctx.client.request(sendMailRequest(mailbox, mail, options));
  } catch (error) {
    if (error instanceof PatchbayError && error.status === 403) throw sendRefused(mailbox, mail.from, error);
    throw error;
  }
}

/** The id of the sent copy carrying `key`, if Sent Items has it. */
async function findSent(
  ctx: SendContext,
  mailbox: string,
  key: string,
  signal: AbortSignal | undefined,
): Promise<string | undefined> {
  const { body } = await ctx.client.request(findSentRequest(mailbox, key, signal));
  return (body as { value: Array<{ id: string }> }).value[0]?.id;
}
