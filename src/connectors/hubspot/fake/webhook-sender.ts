import { createHash, createHmac } from 'node:crypto';
import type { FakeProviderClock } from '../../fake-kit/index.js';
import type { CrmChange } from './crm-store.js';

export interface Subscription {
  id: number;
  eventType: string;
  propertyName?: string;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  changeSource: string;
  changeFlag?: string;
  propertyName?: string;
  propertyValue?: string;
}

export interface WebhookSenderOptions {
  portalId: number;
  appId: number;
  /** The app's client secret: the key of the v3 signature (and the prefix of v1). */
  clientSecret: string;
  clock: FakeProviderClock;
  /** A share of events sent twice, in [0, 1]. Defaults to 0.05. */
  duplicateRate: number;
  /** Shuffle each post's events (HubSpot promises no order). Defaults to true. */
  reorder: boolean;
  /** HubSpot gives up on a post that has not answered within 5 s. */
  timeoutMs: number;
  /** How long changes gather before a post, in ms. Defaults to 100. */
  gatherMs: number;
  random: () => number;
}

/** Retry delays in minutes, about doubling: 10 retries within 24 h, each jittered by ±20 %. */
const RETRY_MINUTES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512];
const MAX_EVENTS = 100;

/**
 * Posts HubSpot's webhook deliveries (https://developers.hubspot.com/docs/api/webhooks): JSON arrays of
 * under 100 events, unordered, with occasional duplicates, signed v3 (HMAC-SHA256 of method, URL, body
 * and timestamp) and v1. A post that fails (a non-2xx, no answer within 5 s, a refused connection) is
 * retried up to 10 times over 24 h on the fake's clock, the same events re-signed with a fresh
 * timestamp and their `attemptNumber` increased. Deliveries count against no rate limit.
 */
export class WebhookSender {
  targetUrl: string | undefined;
  maxConcurrentRequests = 10;
  readonly subscriptions = new Map<number, Subscription>();
  readonly log: { at: number; attempt: number; events: number; outcome: string }[] = [];
  readonly stats = { posts: 0, delivered: 0, failedPosts: 0, retries: 0, dropped: 0 };
  private pending: WebhookEvent[] = [];
  private queue: { events: WebhookEvent[]; attempt: number }[] = [];
  private inFlight = 0;
  private gathering: (() => void) | undefined;
  private cancels = new Set<() => void>();
  private nextEventId = 1;
  private nextSubscriptionId = 1;
  private closed = false;

  constructor(private readonly options: WebhookSenderOptions) {}

  reset(): void {
    for (const cancel of this.cancels) cancel();
    this.cancels.clear();
    this.gathering?.();
    this.gathering = undefined;
    this.pending = [];
    this.queue = [];
    this.subscriptions.clear();
    this.targetUrl = undefined;
    this.maxConcurrentRequests = 10;
    this.log.length = 0;
    Object.assign(this.stats, { posts: 0, delivered: 0, failedPosts: 0, retries: 0, dropped: 0 });
  }

  close(): void {
    this.closed = true;
    this.reset();
  }

  subscribe(eventType: string, propertyName: string | undefined, active: boolean): Subscription {
    const at = new Date(this.options.clock.now()).toISOString();
    const subscription: Subscription = {
      id: this.nextSubscriptionId++,
      eventType,
      ...(propertyName && { propertyName }),
      active,
      createdAt: at,
      updatedAt: at,
    };
    this.subscriptions.set(subscription.id, subscription);
    return subscription;
  }

  get pendingEvents(): number {
    return this.pending.length + this.queue.reduce((n, q) => n + q.events.length, 0);
  }

  /** Turns a CRM change into the events its subscriptions ask for. */
  observe(change: CrmChange): void {
    if (!this.targetUrl || this.closed) return;
    const name = change.record.type.webhookName;
    if (!name) return;
    const eventType = `${name}.${change.kind}`;
    for (const s of this.subscriptions.values()) {
      if (!s.active || s.eventType !== eventType) continue;
      if (change.kind === 'propertyChange' && s.propertyName !== change.propertyName) continue;
      this.pending.push({
        eventId: this.nextEventId++,
        subscriptionId: s.id,
        portalId: this.options.portalId,
        appId: this.options.appId,
        occurredAt: this.options.clock.now(),
        subscriptionType: eventType,
        attemptNumber: 0,
        objectId: Number(change.record.id),
        changeSource: 'API',
        ...(change.kind === 'creation' && { changeFlag: 'NEW' }),
        ...(change.kind === 'deletion' && { changeFlag: 'DELETED' }),
        ...(change.kind === 'propertyChange' && {
          propertyName: change.propertyName,
          propertyValue: change.propertyValue,
        }),
      });
    }
    if (this.pending.length > 0 && !this.gathering) {
      this.gathering = this.options.clock.at(this.options.clock.now() + this.options.gatherMs, () => {
        this.gathering = undefined;
        this.flush();
      });
    }
  }

  /** Sends what has gathered now (tests call it instead of waiting). */
  flush(): void {
    this.gathering?.();
    this.gathering = undefined;
    const { random, duplicateRate, reorder } = this.options;
    while (this.pending.length > 0) {
      const events = this.pending.splice(0, MAX_EVENTS - 1);
      // Some events come twice, in the same post or the next: receivers must dedupe.
      const copies = events.filter(() => random() < duplicateRate).map((e) => ({ ...e }));
      const all = [...events, ...copies].slice(0, MAX_EVENTS - 1);
      if (reorder) shuffle(all, random);
      this.queue.push({ events: all, attempt: 0 });
    }
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.inFlight < this.maxConcurrentRequests && this.queue.length > 0) {
      const next = this.queue.shift()!;
      this.inFlight++;
      void this.post(next.events, next.attempt).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async post(events: WebhookEvent[], attempt: number): Promise<void> {
    const url = this.targetUrl;
    if (!url) return;
    const body = JSON.stringify(events.map((e) => ({ ...e, attemptNumber: attempt })));
    const timestamp = String(this.options.clock.now());
    const secret = this.options.clientSecret;
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) - WebhooksExecutorDaemon-executor',
      'x-hubspot-signature': createHash('sha256')
        .update(secret + body)
        .digest('hex'),
      'x-hubspot-signature-version': 'v1',
      'x-hubspot-signature-v3': createHmac('sha256', secret)
        .update(`POST${url}${body}${timestamp}`)
        .digest('base64'),
      'x-hubspot-request-timestamp': timestamp,
    };
    this.stats.posts++;
    let outcome: string;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      outcome = String(response.status);
      if (response.ok) {
        this.stats.delivered += events.length;
        this.log.push({ at: this.options.clock.now(), attempt, events: events.length, outcome });
        return;
      }
    } catch (error) {
      outcome = (error as Error).name === 'TimeoutError' ? 'timeout' : 'connection failed';
    }
    this.stats.failedPosts++;
    this.log.push({ at: this.options.clock.now(), attempt, events: events.length, outcome });
    if (this.closed) return;
    if (attempt >= RETRY_MINUTES.length) {
      this.stats.dropped += events.length;
      return;
    }
    const jitter = 0.8 + this.options.random() * 0.4;
    const delay = Math.round(RETRY_MINUTES[attempt]! * 60_000 * jitter);
    this.stats.retries++;
    const cancel = this.options.clock.at(this.options.clock.now() + delay, () => {
      this.cancels.delete(cancel);
      this.queue.push({ events, attempt: attempt + 1 });
      this.pump();
    });
    this.cancels.add(cancel);
  }
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

/** A small seeded generator (mulberry32), so a fake's duplicates and order repeat for one seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
