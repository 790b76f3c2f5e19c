import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { EventPublisher } from '../core/publisher.js';
import type { Database } from '../store/database.js';
import { recentAttempts } from '../store/health-store.js';
import { bucketPercentile, TrafficStore, type TrafficSummary } from '../store/traffic-store.js';
import type { SyncStatus } from '../sync/sync-service.js';
import type { Connection } from '../vault/connection-model.js';
import type { DestinationView } from '../webhooks/delivery/deliveries-service.js';
import {
  connectionHealth,
  destinationHealth,
  type HealthState,
  percentile,
  sourceHealth,
  stateOf,
} from './health-score.js';

/** Attempts of this window make a destination's success rate and latency. */
export const ATTEMPT_WINDOW_MS = 15 * 60_000;
const ATTEMPT_SAMPLE = 5000;
const RATE_LIMIT_WINDOW_MS = 3_600_000;

export interface HealthPorts {
  database: Database;
  destinations: {
    list(): Promise<DestinationView[]>;
    breakerState(id: string): 'closed' | 'open' | 'half-open';
  };
  connections: { list(options: { after?: string; limit: number }): Promise<Connection[]> };
  syncs: { list(): Promise<SyncStatus[]> };
  sources: { list(): Promise<readonly { id: string }[]> };
  /** The breaker of a connection's calls (from the shared store). Defaults to `closed`. */
  connectionBreaker?: (connection: Connection) => Promise<'closed' | 'open' | 'half-open'>;
  /** This process's traffic counts, written before a status is read so that its own are in it. */
  traffic?: { flush(): Promise<void> };
  /** Where threshold events go (the event log, as source `patchbay`). */
  publisher: EventPublisher;
  clock: Clock;
  logger: Logger;
}

export type HealthKind = 'source' | 'destination' | 'connection' | 'sync';

/** One object's health in the status document. */
export interface ObjectHealth {
  kind: HealthKind;
  id: string;
  score: number;
  status: HealthState;
  /** Why points were taken, one line each. */
  reasons: string[];
  /** The inputs, by name (success rate, p95 latency, breaker, auth, 429s, last success…). */
  inputs: Record<string, string | number | boolean | null>;
}

export interface StatusDocument {
  /** The worst of every object's status; `healthy` with none. */
  status: HealthState;
  /** The lowest score; 100 with none. */
  score: number;
  checkedAt: string;
  sources: ObjectHealth[];
  destinations: ObjectHealth[];
  connections: ObjectHealth[];
  syncs: ObjectHealth[];
}

/**
 * Integration health: a 0–100 score for each source, destination, connection and sync from documented inputs
 * (docs/operations.md), and the threshold events. Scores are computed on demand from the store (any
 * process answers the same), syncs' with the sync module's own `healthOf`.
 */
export class HealthService {
  /** Last state seen by `watch`, per `kind:id`. */
  private readonly states = new Map<string, HealthState>();

  constructor(private readonly ports: HealthPorts) {}

  async status(): Promise<StatusDocument> {
    const { clock, database } = this.ports;
    const now = clock.now();
    await this.ports.traffic
      ?.flush()
      .catch((err) => this.ports.logger.warn({ err }, 'could not record traffic before a status'));
    const traffic = new TrafficStore(database);
    const [sources, destinations, connections, syncs, attempts, sourceTraffic, calls, callsOfTheHour] =
      await Promise.all([
        this.ports.sources.list(),
        this.ports.destinations.list(),
        this.allConnections(),
        this.ports.syncs.list(),
        recentAttempts(database, now - ATTEMPT_WINDOW_MS, ATTEMPT_SAMPLE),
        traffic.since('source', now - ATTEMPT_WINDOW_MS),
        traffic.since('connection', now - ATTEMPT_WINDOW_MS),
        traffic.since('connection', now - RATE_LIMIT_WINDOW_MS),
      ]);
    const object = (
      kind: HealthKind,
      id: string,
      health: { score: number; reasons: string[] },
      inputs: ObjectHealth['inputs'],
    ): ObjectHealth => ({
      kind,
      id,
      score: health.score,
      status: stateOf(health.score),
      reasons: health.reasons,
      inputs,
    });
    const sourceTrafficById = new Map(sourceTraffic.map((t) => [t.subject, t]));
    const sourceItems = sources.map((source) => {
      const t = sourceTrafficById.get(source.id);
      const requests = t ? t.ok + t.failed : 0;
      const p95Ms = t ? bucketPercentile(t.buckets, t.durationMax) : undefined;
      const health = sourceHealth({
        requests,
        refused: t?.failed ?? 0,
        failures: t?.reasons ?? {},
        p95Ms,
      });
      return object('source', source.id, health, {
        requests,
        acceptRate: requests > 0 ? rate(t!.ok, requests) : null,
        refused: t?.failed ?? 0,
        ...refusals(t),
        p95Ms: p95Ms ?? null,
        lastAcceptedAt: t?.lastOkAt ? new Date(t.lastOkAt).toISOString() : null,
      });
    });
    const destinationItems = destinations.map((d) => {
      const own = attempts.filter((a) => a.destinationId === d.id);
      const breaker = this.ports.destinations.breakerState(d.id);
      const failingSince = d.failingSince ? Date.parse(d.failingSince) : undefined;
      const health = destinationHealth({
        attempts: own,
        breaker,
        disabled: d.status === 'disabled',
        now,
        failingSince,
      });
      const succeeded = own.filter((a) => a.succeeded);
      return object('destination', d.id, health, {
        attempts: own.length,
        successRate: own.length > 0 ? Math.round((succeeded.length / own.length) * 1000) / 1000 : null,
        p95Ms:
          percentile(
            own.map((a) => a.durationMs),
            0.95,
          ) ?? null,
        breaker,
        lastSuccessAt:
          succeeded.length > 0
            ? new Date(Math.max(...succeeded.map((a) => a.startedAt))).toISOString()
            : null,
      });
    });
    const callsOf = new Map(calls.map((t) => [t.subject, t]));
    const limitedOf = new Map(callsOfTheHour.map((t) => [t.subject, t.limited]));
    const breakers = await Promise.all(
      connections.map((c) =>
        (this.ports.connectionBreaker?.(c) ?? Promise.resolve('closed' as const)).catch(
          () => 'closed' as const,
        ),
      ),
    );
    const connectionItems = connections.map((c, i) => {
      const t = callsOf.get(c.id);
      const rateLimited = limitedOf.get(c.id) ?? 0;
      const total = t ? t.ok + t.failed + t.limited : 0;
      const p95Ms = t ? bucketPercentile(t.buckets, t.durationMax) : undefined;
      const breaker = breakers[i]!;
      // The headroom of an answer older than the window says nothing of the quota now.
      const headroom = t?.headroom ?? null;
      return object(
        'connection',
        c.id,
        connectionHealth({
          status: c.status,
          statusReason: c.statusReason,
          rateLimited,
          calls: total,
          failed: t?.failed ?? 0,
          failures: t?.reasons ?? {},
          p95Ms,
          breaker,
          headroom,
        }),
        {
          provider: c.provider,
          auth: c.status,
          calls: total,
          successRate: total > 0 ? rate(t!.ok, total) : null,
          p95Ms: p95Ms ?? null,
          breaker,
          rateLimited,
          headroom,
          lastSuccessAt: t?.lastOkAt ? new Date(t.lastOkAt).toISOString() : null,
        },
      );
    });
    const syncItems = syncs.map((s) =>
      object('sync', s.id, s.health, {
        lastSuccessAt: s.lastSuccessAt === undefined ? null : new Date(s.lastSuccessAt).toISOString(),
        nextRunAt: s.nextRunAt === null ? null : new Date(s.nextRunAt).toISOString(),
        records: s.records,
      }),
    );
    const all = [...sourceItems, ...destinationItems, ...connectionItems, ...syncItems];
    const score = Math.min(100, ...all.map((o) => o.score));
    return {
      status: stateOf(score),
      score,
      checkedAt: new Date(now).toISOString(),
      sources: sourceItems,
      destinations: destinationItems,
      connections: connectionItems,
      syncs: syncItems,
    };
  }

  /**
   * Computes the status and publishes `health.degraded`, `health.failing` or `health.recovered` for each
   * object whose state changed since the last call (an object first seen is compared with healthy). The
   * idempotency key holds the transition and the minute, so processes watching together publish it once.
   */
  async watch(): Promise<StatusDocument> {
    const document = await this.status();
    const minute = Math.floor(this.ports.clock.now() / 60_000);
    for (const item of everyObject(document)) {
      const key = `${item.kind}:${item.id}`;
      const from = this.states.get(key) ?? 'healthy';
      this.states.set(key, item.status);
      if (from === item.status) continue;
      const type = item.status === 'healthy' ? 'health.recovered' : `health.${item.status}`;
      const { kind, id, score, reasons, inputs } = item;
      await this.ports.publisher
        .publish({
          type,
          payload: { kind, id, from, to: item.status, score, reasons, inputs, text: summary(item, from) },
          idempotencyKey: `health:${key}:${from}:${item.status}:${minute}`,
        })
        .catch((err) => this.ports.logger.warn({ err, kind, id }, 'could not publish a health event'));
    }
    return document;
  }

  private async allConnections(): Promise<Connection[]> {
    const all: Connection[] = [];
    for (;;) {
      const last = all.at(-1)?.id;
      const page = await this.ports.connections.list({ ...(last && { after: last }), limit: 500 });
      all.push(...page);
      if (page.length < 500) return all;
    }
  }
}

/** Every object of a status document, sources first. */
export function everyObject(document: StatusDocument): ObjectHealth[] {
  return [...document.sources, ...document.destinations, ...document.connections, ...document.syncs];
}

function rate(part: number, whole: number): number {
  return Math.round((part / whole) * 1000) / 1000;
}

/** `refused.SIGNATURE_INVALID: 8`…: the window's failures by code, as flat inputs. */
function refusals(t: TrafficSummary | undefined): Record<string, number> {
  return Object.fromEntries(Object.entries(t?.reasons ?? {}).map(([code, n]) => [`refused.${code}`, n]));
}

/** One line for people (a Slack message's `text`, an e-mail's subject). */
function summary(item: ObjectHealth, from: HealthState): string {
  const why = item.reasons.length > 0 ? `: ${item.reasons.join('; ')}` : '';
  return `Patchbay: ${item.kind} "${item.id}" is ${item.status} (score ${item.score}, was ${from})${why}`;
}
