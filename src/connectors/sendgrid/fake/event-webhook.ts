import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import type { FakeProviderClock } from '../../fake-kit/index.js';

/** One event as SendGrid posts it; `custom_args` are spread in as top-level keys. */
export type SendGridEvent = Record<string, unknown> & {
  event: string;
  sg_event_id: string;
  timestamp: number;
};

export const EVENT_TYPES = [
  'processed',
  'dropped',
  'deferred',
  'delivered',
  'bounce',
  'open',
  'click',
  'spam_report',
  'unsubscribe',
  'group_unsubscribe',
  'group_resubscribe',
] as const;

export interface EventWebhookSettings {
  enabled: boolean;
  url: string;
  /** Per event type (`bounce`, `open`…): whether it is posted. */
  [eventType: string]: boolean | string;
}

/** The retry horizon SendGrid documents: failed posts are retried for up to 24 hours. */
const RETRY_HORIZON_MS = 24 * 60 * 60 * 1000;
/** How long the fake waits for the receiver before counting the post as failed. */
const POST_TIMEOUT_MS = 10_000;

export interface WebhookStats {
  posts: number;
  eventsPosted: number;
  failedPosts: number;
  retries: number;
  /** Events given up after the retry horizon, or dropped because no URL was set. */
  eventsLost: number;
}

/**
 * The signed Event Webhook: events due on the fake's clock are posted in one batch per instant to the
 * configured URL — a JSON array with `\r\n` after each event — signed with ECDSA P-256 over
 * `timestamp + body` (`X-Twilio-Email-Event-Webhook-Signature` / `-Timestamp`) with a key pair made at
 * start. A non-2xx answer, no answer or a timeout is retried with growing delays for 24 hours, signed
 * afresh each time.
 * https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features
 */
export class EventWebhook {
  /** Base64 SPKI DER, as SendGrid shows the verification key. */
  readonly publicKey: string;
  settings: EventWebhookSettings;
  signed = true;
  readonly stats: WebhookStats = { posts: 0, eventsPosted: 0, failedPosts: 0, retries: 0, eventsLost: 0 };
  private readonly privateKey: KeyObject;
  private queue: { dueAt: number; event: SendGridEvent }[] = [];
  private readonly inFlight = new Set<AbortController>();
  private readonly cancels = new Set<() => void>();

  constructor(
    private readonly clock: FakeProviderClock,
    private readonly initialUrl: string | undefined,
  ) {
    const pair = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    this.privateKey = pair.privateKey;
    this.publicKey = pair.publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
    this.settings = defaultSettings(initialUrl);
  }

  /** Queues events to be posted at their time. */
  enqueue(dueAt: number, events: readonly SendGridEvent[]): void {
    for (const event of events) this.queue.push({ dueAt, event });
    this.schedule(dueAt, () => this.flush());
  }

  /** Posts one batch now, outside the queue (the settings' "test" button). */
  async postNow(url: string, events: readonly SendGridEvent[]): Promise<number | undefined> {
    return this.post(url, events);
  }

  reset(): void {
    for (const cancel of this.cancels) cancel();
    this.cancels.clear();
    this.queue = [];
    this.settings = defaultSettings(this.initialUrl);
    this.signed = true;
    Object.assign(this.stats, { posts: 0, eventsPosted: 0, failedPosts: 0, retries: 0, eventsLost: 0 });
  }

  close(): void {
    for (const cancel of this.cancels) cancel();
    for (const controller of this.inFlight) controller.abort();
  }

  /** The body bytes and headers of one post, as SendGrid would send them at `now`. */
  signedRequest(
    events: readonly SendGridEvent[],
    now: number,
  ): { body: string; headers: Record<string, string> } {
    const body = `[${events.map((e) => JSON.stringify(e)).join(',\r\n')}]\r\n`;
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'SendGrid Event API',
    };
    if (this.signed) {
      const timestamp = String(Math.floor(now / 1000));
      const signature = sign('sha256', Buffer.from(timestamp + body, 'utf8'), this.privateKey);
      headers['x-twilio-email-event-webhook-signature'] = signature.toString('base64');
      headers['x-twilio-email-event-webhook-timestamp'] = timestamp;
    }
    return { body, headers };
  }

  private flush(): void {
    const now = this.clock.now();
    const due = this.queue.filter((q) => q.dueAt <= now);
    if (due.length === 0) return;
    this.queue = this.queue.filter((q) => q.dueAt > now);
    const events = due.map((q) => q.event).filter((e) => this.settings[e.event] !== false);
    if (events.length === 0) return;
    if (!this.settings.enabled || !this.settings.url) {
      this.stats.eventsLost += events.length;
      return;
    }
    void this.deliver(this.settings.url, events, 1, now);
  }

  private async deliver(
    url: string,
    events: SendGridEvent[],
    attempt: number,
    firstAt: number,
  ): Promise<void> {
    const status = await this.post(url, events);
    if (status !== undefined && status >= 200 && status < 300) {
      this.stats.eventsPosted += events.length;
      return;
    }
    this.stats.failedPosts++;
    const retryAt = this.clock.now() + Math.min(60_000 * 2 ** (attempt - 1), 3_600_000);
    if (retryAt - firstAt > RETRY_HORIZON_MS) {
      this.stats.eventsLost += events.length;
      return;
    }
    this.schedule(retryAt, () => {
      this.stats.retries++;
      void this.deliver(url, events, attempt + 1, firstAt);
    });
  }

  /** The receiver's status, or undefined when it did not answer in time or refused the connection. */
  private async post(url: string, events: readonly SendGridEvent[]): Promise<number | undefined> {
    const { body, headers } = this.signedRequest(events, this.clock.now());
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), POST_TIMEOUT_MS);
    this.inFlight.add(controller);
    this.stats.posts++;
    try {
      const response = await fetch(url, { method: 'POST', headers, body, signal: controller.signal });
      await response.arrayBuffer().catch(() => undefined);
      return response.status;
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }

  private schedule(at: number, run: () => void): void {
    const cancel = this.clock.at(at, () => {
      this.cancels.delete(cancel);
      run();
    });
    this.cancels.add(cancel);
  }
}

function defaultSettings(url: string | undefined): EventWebhookSettings {
  const settings: EventWebhookSettings = { enabled: url !== undefined, url: url ?? '' };
  for (const type of EVENT_TYPES) settings[type] = true;
  return settings;
}
