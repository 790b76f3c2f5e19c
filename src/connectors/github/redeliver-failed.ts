import type { GitHubApi } from './api.js';
import type { RepoRef } from './calls/repo-ref.js';
import type { GitHubDelivery } from './schemas.js';

/** GitHub redelivers only deliveries of the past 3 days. */
export const REDELIVERY_WINDOW_MS = 3 * 24 * 3_600_000;

export interface RedeliveryOptions {
  /** Look at deliveries from this instant on (ms), e.g. the previous run's `checkedUntil`. Defaults to 3 days ago. */
  since?: number;
  /** The current time, in ms (the engine's clock). */
  now: number;
  /** Report what would be redelivered without asking GitHub to. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface RedeliveryReport {
  /** Deliveries looked at. */
  checked: number;
  /** Events (GUIDs) whose every attempt failed and that were redelivered, with the attempt used. */
  redelivered: { guid: string; deliveryId: number; event: string; status: string }[];
  /** Failed events older than GitHub's 3-day window: they cannot be redelivered any more. */
  tooOld: { guid: string; deliveryId: number; deliveredAt: string }[];
  /** The newest delivery time seen (ms): pass it as `since` next time. */
  checkedUntil: number | undefined;
}

/**
 * GitHub never retries a failed delivery (https://docs.github.com/webhooks/using-webhooks/handling-failed-webhook-deliveries):
 * this reads a hook's deliveries newest first back to `since`, groups the attempts by GUID, and
 * redelivers each event none of whose attempts succeeded (its newest attempt). A redelivery keeps the
 * GUID, so a receiver deduping on `X-GitHub-Delivery` (Patchbay's ingress does) sees each event once
 * even if two runs overlap.
 */
export async function redeliverFailed(
  api: GitHubApi,
  ref: RepoRef,
  hookId: number,
  options: RedeliveryOptions,
): Promise<RedeliveryReport> {
  const windowStart = options.now - REDELIVERY_WINDOW_MS;
  const since = options.since ?? windowStart;
  const byGuid = new Map<string, GitHubDelivery[]>();
  let checked = 0;
  let checkedUntil: number | undefined;
  read: for await (const page of api.hooks.deliveryPages(ref, hookId, {
    ...(options.signal && { signal: options.signal }),
  })) {
    for (const delivery of page.items) {
      const at = Date.parse(delivery.delivered_at);
      if (at < since) break read;
      checked++;
      checkedUntil = Math.max(checkedUntil ?? at, at);
      const attempts = byGuid.get(delivery.guid) ?? [];
      attempts.push(delivery);
      byGuid.set(delivery.guid, attempts);
    }
  }
  const report: RedeliveryReport = { checked, redelivered: [], tooOld: [], checkedUntil };
  for (const [guid, attempts] of byGuid) {
    if (attempts.some((a) => a.status === 'OK')) continue;
    // Newest first: the first attempt listed is the latest one.
    const latest = attempts[0]!;
    if (Date.parse(latest.delivered_at) < windowStart) {
      report.tooOld.push({ guid, deliveryId: latest.id, deliveredAt: latest.delivered_at });
      continue;
    }
    if (!options.dryRun)
      await api.hooks.redeliver(ref, hookId, latest.id, {
        ...(options.signal && { signal: options.signal }),
      });
    report.redelivered.push({ guid, deliveryId: latest.id, event: latest.event, status: latest.status });
  }
  return report;
}
