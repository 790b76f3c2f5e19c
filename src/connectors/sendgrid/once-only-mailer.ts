import { type Clock, systemClock } from '../../core/clock.js';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { SendLedger } from '../send-ledger.js';
import { sendMessageId } from './activity.js';
import type { SendGridApi } from './connector.js';
import type { Mail } from './mail.js';

/** What the mailer keeps per send: the ledger every connector's once-only sends share. */
export type { SendLedger } from '../send-ledger.js';

export interface OnceOnlyMailerOptions {
  api: Pick<SendGridApi, 'send' | 'messagesWithArg'>;
  ledger: SendLedger;
  /** Whose sends these are, e.g. the connection id: keys are unique within it. */
  scope: string;
  /** Whether the account has Email Activity (the look-up). Without it an unknown outcome is never re-sent. Defaults to true. */
  emailActivity?: boolean;
  /** The custom arg that marks each send with its key. Defaults to `patchbay_send_id`. */
  marker?: string;
  /** Longest one send attempt can take (the client's deadline): until then it may still be in flight. Defaults to 2 min. */
  inFlightMs?: number;
  /** How long a sent mail can take to show in Email Activity: a look-up finding nothing is trusted only after it. Defaults to 10 min. */
  activityLagMs?: number;
  clock?: Clock;
}

export interface OnceOnlyResult {
  messageId: string | undefined;
  /** `sent` now; `already-sent` by an earlier call (from the ledger); `recovered` found in Email Activity after a lost answer. */
  outcome: 'sent' | 'already-sent' | 'recovered';
}

const KEY = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * Sends each mail at most once per key, across crashes and processes. SendGrid has no idempotency
 * key, so: the key is claimed in the ledger (durably) before sending, and rides in the mail as a
 * custom arg. A send whose answer was lost (a crash, a timeout, a 5xx) stays pending; the next call
 * with that key looks in Email Activity for a message carrying the marker before it sends again —
 * found, it is settled as sent; not found once the feed's lag has passed, it is sent. Until then the
 * call fails with `OUTCOME_UNKNOWN` and a `retryAfterMs`. Refusals (4xx, 429) and failures before a
 * byte left free the key. See docs/decisions/0095-sendgrid-once-only-sends.md.
 */
export class OnceOnlyMailer {
  private readonly api: OnceOnlyMailerOptions['api'];
  private readonly ledger: SendLedger;
  private readonly scope: string;
  private readonly marker: string;
  private readonly emailActivity: boolean;
  private readonly inFlightMs: number;
  private readonly activityLagMs: number;
  private readonly clock: Clock;

  constructor(options: OnceOnlyMailerOptions) {
    this.api = options.api;
    this.ledger = options.ledger;
    this.scope = options.scope;
    this.marker = options.marker ?? 'patchbay_send_id';
    this.emailActivity = options.emailActivity ?? true;
    this.inFlightMs = options.inFlightMs ?? 120_000;
    this.activityLagMs = options.activityLagMs ?? 600_000;
    this.clock = options.clock ?? systemClock;
  }

  async send(key: string, mail: Mail, options: { signal?: AbortSignal } = {}): Promise<OnceOnlyResult> {
    if (typeof key !== 'string' || !KEY.test(key)) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        'the send key must be 1–128 letters, digits or "._:@/+=-" (it is quoted in an Email Activity query)',
      );
    }
    const marked: Mail = { ...mail, custom_args: { ...mail.custom_args, [this.marker]: key } };
    const now = this.clock.now();
    const claim = await this.ledger.claim(this.scope, key, now);
    if (claim.claimed) return this.attempt(key, marked, claim.attemptAt, options.signal);
    const { entry } = claim;
    if (entry.state === 'done') return { messageId: messageIdOf(entry.result), outcome: 'already-sent' };
    return this.recover(key, marked, entry.attemptAt, options.signal);
  }

  /** A pending send: still in flight, confirmed by the look-up, or (once the feed's lag has passed) sent again. */
  private async recover(
    key: string,
    mail: Mail,
    attemptAt: number,
    signal?: AbortSignal,
  ): Promise<OnceOnlyResult> {
    const now = this.clock.now();
    if (now < attemptAt + this.inFlightMs) {
      throw unknown(key, 'an attempt may still be in flight', attemptAt + this.inFlightMs - now);
    }
    if (!this.emailActivity) {
      throw new PatchbayError(
        ErrorCode.OUTCOME_UNKNOWN,
        `send "${key}" may have reached SendGrid and cannot be confirmed without Email Activity: check the account's activity and settle it by hand`,
        { classification: 'permanent', data: { key } },
      );
    }
    const found = await this.api.messagesWithArg(this.marker, key, signal ? { signal } : {});
    if (found.length > 0) {
      const messageId = sendMessageId(found[0]!.msg_id);
      await this.ledger.complete(this.scope, key, { messageId }, this.clock.now());
      return { messageId, outcome: 'recovered' };
    }
    const trustedAt = attemptAt + this.activityLagMs;
    if (now < trustedAt) {
      throw unknown(key, 'Email Activity does not show it yet', Math.min(trustedAt - now, 60_000));
    }
    const retaken = await this.ledger.retake(this.scope, key, attemptAt, now);
    if (!retaken) throw unknown(key, 'another process is settling it', 1000);
    return this.attempt(key, mail, now, signal);
  }

  private async attempt(
    key: string,
    mail: Mail,
    attemptAt: number,
    signal?: AbortSignal,
  ): Promise<OnceOnlyResult> {
    let messageId: string | undefined;
    try {
      ({ messageId } = await this.api.send(mail, signal ? { signal } : {}));
    } catch (error) {
      if (provablyNotSent(error)) {
        await this.ledger.release(this.scope, key, attemptAt);
        throw error;
      }
      throw new PatchbayError(
        ErrorCode.OUTCOME_UNKNOWN,
        `send "${key}" got no answer from SendGrid; the next call looks in Email Activity before sending again`,
        {
          cause: error,
          retryAfterMs: Math.max(0, attemptAt + this.inFlightMs - this.clock.now()),
          classification: 'transient',
          data: { key },
        },
      );
    }
    await this.ledger.complete(this.scope, key, { messageId }, this.clock.now());
    return { messageId, outcome: 'sent' };
  }
}

/** SendGrid refused it (a 4xx: validation, auth, 429), or it never left (connection refused, DNS). */
function provablyNotSent(error: unknown): boolean {
  if (!(error instanceof PatchbayError)) return false;
  if (error.code === ErrorCode.INVALID_ARGUMENT) return true;
  if (error.status !== undefined) return error.status >= 400 && error.status < 500;
  return error.notSent === true;
}

function unknown(key: string, why: string, retryAfterMs: number): PatchbayError {
  return new PatchbayError(ErrorCode.OUTCOME_UNKNOWN, `send "${key}" is not settled yet: ${why}`, {
    retryAfterMs,
    classification: 'transient',
    data: { key },
  });
}

function messageIdOf(result: unknown): string | undefined {
  const id = (result as { messageId?: unknown } | null)?.messageId;
  return typeof id === 'string' ? id : undefined;
}
