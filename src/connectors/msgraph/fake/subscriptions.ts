import { randomUUID } from 'node:crypto';
import type { FakeKit } from '../../fake-kit/index.js';
import type { MailChange } from './mail-types.js';
import { iso } from './message-view.js';
import type { DeliveryRecord, NotificationSender } from './notification-sender.js';

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';
export const LIFECYCLE_EVENTS: readonly LifecycleEvent[] = [
  'reauthorizationRequired',
  'subscriptionRemoved',
  'missed',
];

export interface FakeSubscription {
  id: string;
  applicationId: string;
  tenantId: string;
  creatorId: string;
  resource: string;
  changeTypes: ReadonlySet<MailChange['changeType']>;
  notificationUrl: string;
  lifecycleNotificationUrl: string | null;
  clientState: string | null;
  expiresAt: number;
  /** Which mail it watches: a whole mailbox, or one folder of it. */
  mailboxId: string;
  folderId: string | null;
  /** When it was last created, renewed or reauthorized (reauthorization challenges count from here). */
  authorizedAt: number;
  /** Graph wanted a reauthorization that did not come: notifications are lost until one does. */
  paused: boolean;
}

/**
 * The subscriptions of every app, and what Graph does with them over time (G8–G10): change notifications
 * for matching mail changes, batched per URL, with the subscription's `clientState` and the resource
 * cased `Users/{id}/Messages/{id}`; expiry (deleted, no event); reauthorization challenges when enabled;
 * lifecycle events sent to the lifecycle URL on demand, when notifications were dropped (`missed`), and
 * when Graph removes one (`subscriptionRemoved`).
 */
export class SubscriptionRegistry {
  private readonly subscriptions = new Map<string, FakeSubscription>();
  private readonly timers = new Map<string, Array<() => void>>();
  private queued = new Map<string, { kind: 'change' | 'lifecycle'; ids: Set<string>; value: unknown[] }>();
  private flushScheduled = false;

  constructor(
    private readonly kit: FakeKit,
    private readonly sender: NotificationSender,
    private readonly reauthorizationIntervalMs: () => number | null,
  ) {}

  add(input: Omit<FakeSubscription, 'id' | 'authorizedAt' | 'paused'>): FakeSubscription {
    const subscription: FakeSubscription = {
      ...input,
      id: randomUUID(),
      authorizedAt: this.kit.clock.now(),
      paused: false,
    };
    this.subscriptions.set(subscription.id, subscription);
    this.schedule(subscription);
    this.kit.count('subscriptions:created');
    return subscription;
  }

  get(id: string, applicationId: string): FakeSubscription | undefined {
    const subscription = this.subscriptions.get(id.toLowerCase()) ?? this.subscriptions.get(id);
    return subscription?.applicationId === applicationId ? subscription : undefined;
  }

  list(applicationId?: string): FakeSubscription[] {
    return [...this.subscriptions.values()].filter(
      (s) => applicationId === undefined || s.applicationId === applicationId,
    );
  }

  /** Count of active subscriptions on one mailbox (Outlook allows 1,000). */
  countFor(mailboxId: string): number {
    return this.list().filter((s) => s.mailboxId === mailboxId).length;
  }

  /** PATCH: a new expiry, and a fresh authorization. */
  renew(subscription: FakeSubscription, expiresAt: number): void {
    subscription.expiresAt = expiresAt;
    this.reauthorize(subscription);
    this.kit.count('subscriptions:renewed');
  }

  reauthorize(subscription: FakeSubscription): void {
    subscription.authorizedAt = this.kit.clock.now();
    subscription.paused = false;
    this.schedule(subscription);
  }

  remove(id: string): boolean {
    this.cancel(id);
    return this.subscriptions.delete(id);
  }

  /** Sends a lifecycle event; `subscriptionRemoved` also removes it, as Graph does. */
  lifecycle(subscription: FakeSubscription, event: LifecycleEvent): boolean {
    if (event === 'subscriptionRemoved') this.remove(subscription.id);
    if (event === 'reauthorizationRequired') this.kit.count('lifecycle:reauthorizationRequired');
    if (!subscription.lifecycleNotificationUrl) return false;
    this.enqueue(subscription.lifecycleNotificationUrl, 'lifecycle', subscription.id, {
      subscriptionId: subscription.id,
      subscriptionExpirationDateTime: iso7(subscription.expiresAt),
      tenantId: subscription.tenantId,
      clientState: subscription.clientState,
      lifecycleEvent: event,
    });
    return true;
  }

  /** A mail change: a notification for each subscription watching it. */
  onChange(change: MailChange): void {
    for (const subscription of this.subscriptions.values()) {
      if (subscription.mailboxId !== change.mailboxId) continue;
      if (subscription.folderId !== null && subscription.folderId !== change.folderId) continue;
      if (!subscription.changeTypes.has(change.changeType)) continue;
      if (subscription.paused) {
        this.kit.count('notifications:lost-while-paused');
        continue;
      }
      // Graph's resource paths in notifications are cased this way whatever the subscription said (G8).
      const resource = `Users/${change.mailboxId}/Messages/${change.messageId}`;
      this.enqueue(subscription.notificationUrl, 'change', subscription.id, {
        subscriptionId: subscription.id,
        subscriptionExpirationDateTime: iso7(subscription.expiresAt),
        changeType: change.changeType,
        resource,
        resourceData: {
          '@odata.type': '#Microsoft.Graph.Message',
          '@odata.id': resource,
          '@odata.etag': change.etag,
          id: change.messageId,
        },
        clientState: subscription.clientState,
        tenantId: subscription.tenantId,
      });
    }
  }

  /** Notifications dropped after 4 h of failures: each affected subscription hears `missed`. */
  onDropped(record: DeliveryRecord): void {
    if (record.kind !== 'change') return;
    for (const id of new Set(record.subscriptionIds)) {
      const subscription = this.subscriptions.get(id);
      if (subscription) this.lifecycle(subscription, 'missed');
    }
  }

  reset(): void {
    for (const id of this.timers.keys()) this.cancel(id);
    this.subscriptions.clear();
    this.queued.clear();
  }

  private enqueue(
    url: string,
    kind: 'change' | 'lifecycle',
    subscriptionId: string,
    notification: unknown,
  ): void {
    const key = `${kind} ${url}`;
    const batch = this.queued.get(key) ?? { kind, ids: new Set<string>(), value: [] };
    batch.ids.add(subscriptionId);
    batch.value.push(notification);
    this.queued.set(key, batch);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // Changes made in one tick go out in one POST per URL, mixing subscriptions as Graph does.
    setImmediate(() => {
      this.flushScheduled = false;
      const batches = this.queued;
      this.queued = new Map();
      for (const [key, b] of batches) {
        const url = key.slice(key.indexOf(' ') + 1);
        for (let i = 0; i < b.value.length; i += 100) {
          this.sender.send(url, b.kind, [...b.ids], { value: b.value.slice(i, i + 100) });
        }
      }
    });
  }

  private schedule(subscription: FakeSubscription): void {
    this.cancel(subscription.id);
    const cancels = [
      this.kit.clock.at(subscription.expiresAt, () => {
        // An expired subscription is deleted without a lifecycle event (G10).
        if (this.subscriptions.delete(subscription.id)) this.kit.count('subscriptions:expired');
        this.cancel(subscription.id);
      }),
    ];
    const interval = this.reauthorizationIntervalMs();
    if (interval !== null) {
      const due = subscription.authorizedAt + interval;
      // G9: challenges start ahead of the deadline; notifications pause once it passes.
      cancels.push(
        this.kit.clock.at(Math.max(subscription.authorizedAt, due - 3_600_000), () =>
          this.lifecycle(subscription, 'reauthorizationRequired'),
        ),
      );
      cancels.push(
        this.kit.clock.at(due, () => {
          subscription.paused = true;
          this.kit.count('subscriptions:paused');
        }),
      );
    }
    this.timers.set(subscription.id, cancels);
  }

  private cancel(id: string): void {
    for (const cancel of this.timers.get(id) ?? []) cancel();
    this.timers.delete(id);
  }
}

/** Graph prints subscription times with seven fractional digits: `2024-01-01T10:00:00.0000000Z`. */
export function iso7(ms: number): string {
  return `${iso(ms).slice(0, -1)}.${String(ms % 1000).padStart(3, '0')}0000Z`;
}
