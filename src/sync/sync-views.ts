import type {
  QuarantinedRecord,
  StoredRecord,
  SyncChange,
  SyncConflict,
  SyncRun,
} from '../store/sync/index.js';
import type { SyncStatus } from './sync-service.js';

/**
 * The JSON shapes of syncs in the admin API and the CLI: camelCase, times as ISO strings, records as
 * their JSON (not as text).
 */
const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();
const json = (text: string | null) => (text === null ? null : (JSON.parse(text) as unknown));

export function runView(run: SyncRun) {
  return {
    id: run.id,
    mode: run.mode,
    trigger: run.trigger,
    status: run.status,
    startedAt: iso(run.startedAt),
    finishedAt: iso(run.finishedAt),
    durationMs: run.finishedAt === null ? null : run.finishedAt - run.startedAt,
    pages: run.pages,
    seen: run.seen,
    created: run.created,
    updated: run.updated,
    deleted: run.deleted,
    quarantined: run.quarantined,
    pushed: run.pushed,
    pushFailed: run.pushFailed,
    conflicts: run.conflicts,
    deletesHeld: run.deletesHeld,
    errorCode: run.errorCode,
    error: run.error,
    report: run.report ?? null,
  };
}

export function statusView(s: SyncStatus) {
  return {
    id: s.id,
    model: s.model,
    connection: s.connection ?? null,
    schedule: s.schedule,
    state: s.state,
    running: s.running && { owner: s.running.owner, leaseUntil: iso(s.running.until) },
    records: s.records,
    lastRun: s.lastRun ? runView(s.lastRun) : null,
    lastSuccessAt: iso(s.lastSuccessAt),
    nextRunAt: iso(s.nextRunAt),
    lagSeconds: s.lagSeconds === undefined ? null : Math.round(s.lagSeconds),
    fullPending: s.fullPending,
    requested: s.requested && {
      at: iso(s.requested.at),
      mode: s.requested.mode,
      trigger: s.requested.trigger,
    },
    deletesHeld: s.deletesHeld && {
      count: s.deletesHeld.count,
      live: s.deletesHeld.live,
      share: s.deletesHeld.live === 0 ? 1 : s.deletesHeld.count / s.deletesHeld.live,
      at: iso(s.deletesHeld.at),
    },
    quarantineOpen: s.quarantineOpen,
    conflictsOpen: s.conflictsOpen,
    pendingChanges: s.pendingChanges,
    failedChanges: s.failedChanges,
    health: s.health,
  };
}

export function recordView(r: StoredRecord) {
  return {
    id: r.id,
    data: json(r.data),
    hash: r.hash,
    revision: r.revision,
    firstSeenAt: iso(r.firstSeenAt),
    lastSeenAt: iso(r.lastSeenAt),
    updatedAt: iso(r.updatedAt),
    deletedAt: iso(r.deletedAt),
  };
}

export function changeView(c: SyncChange) {
  return {
    id: c.id,
    recordId: c.externalId,
    status: c.status,
    data: json(c.data),
    base: json(c.baseData),
    attempts: c.attempts,
    lastError: c.lastError,
    nextAttemptAt: iso(c.nextAttemptAt),
    writtenAt: iso(c.writtenAt),
    updatedAt: iso(c.updatedAt),
  };
}

export function quarantineView(q: QuarantinedRecord) {
  return {
    id: q.id,
    recordId: q.externalId,
    runId: q.runId,
    status: q.status,
    errorPath: q.errorPath,
    error: q.error,
    raw: json(q.raw),
    retries: q.retries,
    createdAt: iso(q.createdAt),
    updatedAt: iso(q.updatedAt),
  };
}

export function conflictView(c: SyncConflict) {
  return {
    id: c.id,
    recordId: c.externalId,
    changeId: c.changeId,
    status: c.status,
    resolution: c.resolution,
    local: json(c.localData),
    source: json(c.sourceData),
    base: json(c.baseData),
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}
