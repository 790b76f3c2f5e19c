import type { Clock } from '../../core/clock.js';
import { ErrorCode, errorMessage, PatchbayError } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import { type Logger, silentLogger } from '../../core/logger.js';
import type { HttpClient } from '../../http/create-http-client.js';
import type { RateLimitStore } from '../../resilience/rate-limit-store.js';
import { startTimer } from '../../resilience/timers.js';
import { DEFAULT_SUBSCRIPTION_MINUTES } from './definition.js';
import type { GraphSubscription } from './schemas.js';
import {
  createSubscriptionRequest,
  deleteSubscriptionRequest,
  listSubscriptionsRequest,
  reauthorizeSubscriptionRequest,
  renewSubscriptionRequest,
} from './subscriptions-api.js';

/** A folder whose changes Graph should notify, and the sync that reads it (`msgraph.messages`). */
export interface WatchedFolder {
  /** A user id or address, as the folder's sync names it. */
  mailbox: string;
  /** A folder id or well-known name (`inbox`). */
  folder: string;
  syncId: string;
}

export interface SubscriptionManagerOptions {
  /**
   * The connection's client (its token, limits and retries), asked for at each use: a connection
   * whose credentials change gets a new client (`ConnectorClients.client(id)`).
   */
  client(): HttpClient | Promise<HttpClient>;
  connectionId: string;
  clock: Clock;
  /** The engine's shared limit store: its lease makes one renewer among all processes. */
  limits: RateLimitStore;
  /** This Patchbay's public URL of its msgraph source: `https://patchbay.example.com/webhooks/<source>`. */
  notificationUrl: string;
  /** Where lifecycle events go. Defaults to `notificationUrl` (the source types them `lifecycle.*`). */
  lifecycleNotificationUrl?: string;
  /** One of the source's secrets: Graph repeats it in every notification, the source checks it. */
  clientState: string;
  folders: readonly WatchedFolder[];
  /** Longest lifetime asked for, in minutes: the connection's `maxSubscriptionMinutes` (4,230). */
  maxMinutes?: number;
  /** Renew when less than this is left. Defaults to half the lifetime. */
  renewBeforeMs?: number;
  /** How often the subscriptions are checked. Defaults to 15 min. */
  checkEveryMs?: number;
  /** A notification's run starts this long after the first of a burst. Defaults to 2 s. */
  debounceMs?: number;
  /** Requests an incremental run of a sync at `at` (the sync service's `request`; a burst keeps the earliest). */
  requestRun(syncId: string, at: number, reason: string): Promise<unknown>;
  logger?: Logger;
}

/** What Graph asked for is refused past its maximum when the clocks disagree: stay this far inside it. */
const EXPIRY_MARGIN_MS = 15 * 60_000;
const RENEWER_LEASE_MS = 5 * 60_000;

export interface FolderSubscription {
  syncId: string;
  resource: string;
  subscriptionId: string | null;
  expiresAt: number | null;
  /** When this process last created or renewed it (null when another process renews). */
  renewedAt: number | null;
  /** Why the folder has no live subscription, when it has none (the last create or renew failure). */
  problem: string | null;
}

export interface ReconcileReport {
  /** False when another process holds the renewer lease (it does the work). */
  ran: boolean;
  created: number;
  renewed: number;
  removed: number;
  failed: number;
}

/**
 * Change-notification subscriptions for the synced folders, kept alive (subscriptions never lapse):
 * - `reconcile()` (every `checkEveryMs`, and at start) lists the app's subscriptions at Graph — the
 *   state lives there, so a restart or another process picks up the same ones — creates a missing one
 *   (Graph validates the notification and lifecycle URLs before its 201: the source answers the
 *   handshake), renews one with less than `renewBeforeMs` left, recreates a lapsed one, removes
 *   duplicates; a created or recreated one requests a run of its sync, for the changes nobody notified.
 *   It runs under a lease in the shared limit store: with several processes, one renews.
 * - `handle(type, payload)` takes the source's events: a change requests a debounced incremental run
 *   of the folder's sync; `lifecycle.reauthorizationRequired` reauthorizes (renewing when that fails),
 *   `lifecycle.subscriptionRemoved` recreates, `lifecycle.missed` requests an incremental run.
 */
export class MsGraphSubscriptions {
  private readonly maxMs: number;
  private readonly renewBeforeMs: number;
  private readonly checkEveryMs: number;
  private readonly debounceMs: number;
  private readonly logger: Logger;
  private readonly lifecycleUrl: string;
  /** Subscription id → folder, as last listed or created. */
  private readonly bySubscription = new Map<string, WatchedFolder>();
  private readonly status = new Map<string, FolderSubscription>();
  /** Until when a requested run covers further notifications, per sync. */
  private readonly requested = new Map<string, number>();
  private cancelTimer: (() => void) | undefined;
  private running: Promise<unknown> | undefined;

  constructor(private readonly options: SubscriptionManagerOptions) {
    const minutes = options.maxMinutes ?? DEFAULT_SUBSCRIPTION_MINUTES;
    this.maxMs = minutes * 60_000;
    if (!(this.maxMs > EXPIRY_MARGIN_MS * 2)) {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'maxMinutes must be more than 30 minutes');
    }
    this.renewBeforeMs = options.renewBeforeMs ?? this.maxMs / 2;
    this.checkEveryMs = options.checkEveryMs ?? 15 * 60_000;
    this.debounceMs = options.debounceMs ?? 2_000;
    this.logger = options.logger ?? silentLogger;
    this.lifecycleUrl = options.lifecycleNotificationUrl ?? options.notificationUrl;
    if (options.clientState === '' || options.clientState.length > 128) {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'clientState must be 1–128 characters');
    }
    for (const folder of options.folders) {
      this.status.set(folder.syncId, {
        syncId: folder.syncId,
        resource: resourceOf(folder),
        subscriptionId: null,
        expiresAt: null,
        renewedAt: null,
        problem: 'not yet created',
      });
    }
  }

  /** Each watched folder's subscription as last seen: its id and expiry, or why it has none. */
  subscriptions(): FolderSubscription[] {
    return [...this.status.values()].map((s) => ({ ...s }));
  }

  /** Reconciles now and then every `checkEveryMs`, on the clock. */
  start(): void {
    if (this.cancelTimer) return;
    const tick = () => {
      this.running = this.reconcile()
        .catch((err) =>
          this.logger.warn({ err: errorMessage(err) }, `msgraph subscriptions: the check failed`),
        )
        .finally(() => {
          if (this.cancelTimer) this.cancelTimer = startTimer(this.options.clock, this.checkEveryMs, tick);
        });
    };
    this.cancelTimer = () => {};
    tick();
  }

  async stop(): Promise<void> {
    const cancel = this.cancelTimer;
    this.cancelTimer = undefined;
    cancel?.();
    await this.running;
  }

  /** One pass over the watched folders (see the class); skipped when another process holds the lease. */
  async reconcile(): Promise<ReconcileReport> {
    const report: ReconcileReport = { ran: false, created: 0, renewed: 0, removed: 0, failed: 0 };
    const key = `msgraph:connection:${this.options.connectionId}:subscriptions`;
    const token = newId('renewer');
    const grant = await this.options.limits.acquireLease(key, {
      limit: 1,
      leaseMs: RENEWER_LEASE_MS,
      now: this.options.clock.now(),
      token,
    });
    if (!grant.granted) {
      await this.observe();
      return report;
    }
    report.ran = true;
    try {
      const listed = await this.listOurs();
      for (const folder of this.options.folders) {
        await this.keep(folder, listed.get(resourceOf(folder).toLowerCase()) ?? [], report);
      }
    } finally {
      await this.options.limits.releaseLease(key, token);
    }
    return report;
  }

  /**
   * Takes one event of the msgraph source: its type (`created`, `updated`, `deleted`,
   * `lifecycle.<event>`) and its payload (a notification without its clientState).
   */
  async handle(type: string, payload: unknown): Promise<void> {
    const notification = (payload ?? {}) as { subscriptionId?: unknown; lifecycleEvent?: unknown };
    const id = typeof notification.subscriptionId === 'string' ? notification.subscriptionId : undefined;
    if (id === undefined) return;
    const folder = this.bySubscription.get(id) ?? (await this.relist(id));
    if (!folder) {
      this.logger.debug({ subscription: id, type }, 'msgraph subscriptions: not one of ours');
      return;
    }
    const lifecycle = type.startsWith('lifecycle.') ? type.slice('lifecycle.'.length) : undefined;
    switch (lifecycle) {
      case undefined:
        return this.debouncedRun(folder, `notified: ${type}`);
      case 'missed':
        // Graph dropped notifications: the folder's delta has every change, so read it.
        return this.run(folder, 'lifecycle: missed', this.options.clock.now());
      case 'reauthorizationRequired':
        return this.reauthorize(folder, id);
      case 'subscriptionRemoved':
        this.bySubscription.delete(id);
        await this.reconcile();
        return;
      default:
        this.logger.info({ subscription: id, event: lifecycle }, 'msgraph subscriptions: lifecycle event');
    }
  }

  private async keep(
    folder: WatchedFolder,
    found: GraphSubscription[],
    report: ReconcileReport,
  ): Promise<void> {
    const { clock } = this.options;
    const client = await this.options.client();
    const now = clock.now();
    const live = found
      .filter((s) => Date.parse(s.expirationDateTime) > now)
      .sort((a, b) => Date.parse(b.expirationDateTime) - Date.parse(a.expirationDateTime));
    const [keep, ...extra] = live;
    for (const duplicate of extra) {
      await client.request(deleteSubscriptionRequest(duplicate.id)).catch(() => {});
      this.bySubscription.delete(duplicate.id);
      report.removed++;
    }
    try {
      if (!keep) {
        const created = await this.create(folder);
        report.created++;
        this.note(folder, created, null, true);
        // Changes made while there was no subscription were notified to nobody.
        await this.run(folder, 'subscription created', now);
        return;
      }
      this.bySubscription.set(keep.id, folder);
      if (Date.parse(keep.expirationDateTime) - now >= this.renewBeforeMs) {
        this.note(folder, keep, null, false);
        return;
      }
      const renewed = await client
        .request(renewSubscriptionRequest(keep.id, this.expiry()))
        .then((r) => r.body)
        .catch(async (err) => {
          // Gone meanwhile (expired, removed): a new one.
          if (!(err instanceof PatchbayError && err.status === 404)) throw err;
          this.bySubscription.delete(keep.id);
          const created = await this.create(folder);
          report.created++;
          await this.run(folder, 'subscription recreated', now);
          return created;
        });
      report.renewed++;
      this.note(folder, renewed, null, true);
    } catch (err) {
      report.failed++;
      const problem = errorMessage(err);
      this.note(folder, undefined, problem, false);
      this.logger.error(
        { sync: folder.syncId, resource: resourceOf(folder), err: problem },
        `msgraph subscriptions: no live subscription for ${resourceOf(folder)}: ${problem}`,
      );
    }
  }

  private async create(folder: WatchedFolder): Promise<GraphSubscription> {
    const client = await this.options.client();
    const { body } = await client.request(
      createSubscriptionRequest({
        resource: resourceOf(folder),
        changeType: 'created,updated,deleted',
        notificationUrl: this.options.notificationUrl,
        lifecycleNotificationUrl: this.lifecycleUrl,
        clientState: this.options.clientState,
        expirationDateTime: this.expiry(),
      }),
    );
    this.bySubscription.set(body.id, folder);
    this.logger.info(
      { sync: folder.syncId, subscription: body.id, expires: body.expirationDateTime },
      `msgraph subscriptions: created one for ${resourceOf(folder)}`,
    );
    return body;
  }

  private async reauthorize(folder: WatchedFolder, id: string): Promise<void> {
    const client = await this.options.client();
    try {
      await client.request(reauthorizeSubscriptionRequest(id));
    } catch (err) {
      this.logger.warn(
        { subscription: id, err: errorMessage(err) },
        'msgraph subscriptions: reauthorize failed; renewing instead (a renewal also reauthorizes)',
      );
      const renewed = await client.request(renewSubscriptionRequest(id, this.expiry()));
      this.note(folder, renewed.body, null, true);
    }
  }

  private async debouncedRun(folder: WatchedFolder, reason: string): Promise<void> {
    const now = this.options.clock.now();
    if ((this.requested.get(folder.syncId) ?? 0) > now) return;
    await this.run(folder, reason, now + this.debounceMs);
  }

  private async run(folder: WatchedFolder, reason: string, at: number): Promise<void> {
    this.requested.set(folder.syncId, at);
    await this.options.requestRun(folder.syncId, at, reason);
  }

  /** Our subscriptions at Graph (this notification URL), by resource in lower case. */
  private async listOurs(): Promise<Map<string, GraphSubscription[]>> {
    const client = await this.options.client();
    const { body } = await client.request(listSubscriptionsRequest());
    const ours = new Map<string, GraphSubscription[]>();
    for (const s of body.value) {
      if (s.notificationUrl !== this.options.notificationUrl) continue;
      const key = s.resource.toLowerCase();
      ours.set(key, [...(ours.get(key) ?? []), s]);
    }
    return ours;
  }

  /**
   * Another process renews: what it keeps is read from Graph, so this process's `subscriptions()` (its
   * API and CLI) show the same ids and expiries.
   */
  private async observe(): Promise<void> {
    const listed = await this.listOurs();
    const now = this.options.clock.now();
    for (const folder of this.options.folders) {
      const [live] = (listed.get(resourceOf(folder).toLowerCase()) ?? [])
        .filter((s) => Date.parse(s.expirationDateTime) > now)
        .sort((a, b) => Date.parse(b.expirationDateTime) - Date.parse(a.expirationDateTime));
      if (live) this.bySubscription.set(live.id, folder);
      this.note(folder, live, live ? null : 'no live subscription yet (another process renews them)', false);
    }
  }

  /** A notification of a subscription this process has not seen (another one made it): list again. */
  private async relist(id: string): Promise<WatchedFolder | undefined> {
    const listed = await this.listOurs();
    for (const folder of this.options.folders) {
      for (const s of listed.get(resourceOf(folder).toLowerCase()) ?? [])
        this.bySubscription.set(s.id, folder);
    }
    return this.bySubscription.get(id);
  }

  /** Records what a folder has now; `renewed` when this process just created or renewed it. */
  private note(
    folder: WatchedFolder,
    subscription: GraphSubscription | undefined,
    problem: string | null,
    renewed: boolean,
  ) {
    const current = this.status.get(folder.syncId)!;
    this.status.set(folder.syncId, {
      ...current,
      ...(subscription && {
        subscriptionId: subscription.id,
        expiresAt: Date.parse(subscription.expirationDateTime),
      }),
      ...(renewed && { renewedAt: this.options.clock.now() }),
      problem,
    });
  }

  private expiry(): string {
    return new Date(this.options.clock.now() + this.maxMs - EXPIRY_MARGIN_MS).toISOString();
  }
}

/** `users/{mailbox}/mailFolders('{folder}')/messages`: what a folder's subscription watches. */
export function resourceOf(folder: Pick<WatchedFolder, 'mailbox' | 'folder'>): string {
  return `users/${folder.mailbox}/mailFolders('${folder.folder}')/messages`;
}
