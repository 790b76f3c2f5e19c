/**
 * One change-notification subscription a connection keeps for a sync's folder or object, as
 * `GET /connections/:id/subscriptions` and `patchbay connections subscriptions` show it.
 */
export interface SubscriptionView {
  connection: string;
  /** The source the provider notifies. */
  source: string;
  syncId: string;
  /** What the provider watches (Graph: `users/{mailbox}/mailFolders('{folder}')/messages`). */
  resource: string;
  subscriptionId: string | null;
  expiresAt: string | null;
  /** When this process last created or renewed it. */
  renewedAt: string | null;
  /** Why there is no live subscription, when there is none. */
  problem: string | null;
}
