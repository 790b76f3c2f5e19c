import {
  anyJson,
  boolean,
  integer,
  listOf,
  nullable,
  number,
  object,
  string,
  time,
} from '../core/api/schemas.js';

/** Response schemas of the sync routes: the shapes of sync-views.ts and of the service's results. */

const json = { ...anyJson, description: 'JSON, or null.' };

export const runSchema = object({
  id: string,
  mode: string,
  trigger: string,
  status: string,
  startedAt: time,
  finishedAt: nullable(time),
  durationMs: nullable(integer),
  pages: integer,
  seen: integer,
  created: integer,
  updated: integer,
  deleted: integer,
  quarantined: integer,
  pushed: integer,
  pushFailed: integer,
  conflicts: integer,
  deletesHeld: integer,
  errorCode: nullable(string),
  error: nullable(string),
  report: { ...anyJson, description: "A verify run's report, else null." },
});

export const healthSchema = object({
  score: { type: 'integer', minimum: 0, maximum: 100 },
  reasons: { type: 'array', items: string, description: 'Why points were taken, one line each.' },
});

export const syncStatusSchema = object({
  id: string,
  model: string,
  connection: nullable(string),
  schedule: string,
  state: { type: 'string', enum: ['idle', 'running', 'paused'] },
  running: nullable(object({ owner: string, leaseUntil: time })),
  records: integer,
  lastRun: nullable(runSchema),
  lastSuccessAt: nullable(time),
  nextRunAt: nullable(time),
  lagSeconds: nullable(integer),
  fullPending: boolean,
  requested: nullable(object({ at: time, mode: string, trigger: string })),
  deletesHeld: nullable(object({ count: integer, live: integer, share: number, at: time })),
  quarantineOpen: integer,
  conflictsOpen: integer,
  pendingChanges: integer,
  failedChanges: integer,
  health: healthSchema,
});

export const syncListSchema = listOf(syncStatusSchema);

export const recordSchema = object({
  id: string,
  data: json,
  hash: string,
  revision: integer,
  firstSeenAt: time,
  lastSeenAt: time,
  updatedAt: time,
  deletedAt: nullable(time),
});

export const changeSchema = object({
  id: string,
  recordId: string,
  status: string,
  data: json,
  base: json,
  attempts: integer,
  lastError: nullable(string),
  nextAttemptAt: nullable(time),
  writtenAt: time,
  updatedAt: time,
});

export const quarantineSchema = object({
  id: string,
  recordId: nullable(string),
  runId: nullable(string),
  status: string,
  errorPath: nullable(string),
  error: string,
  raw: json,
  retries: integer,
  createdAt: time,
  updatedAt: time,
});

export const conflictSchema = object({
  id: string,
  recordId: string,
  changeId: nullable(string),
  status: string,
  resolution: nullable(string),
  local: json,
  source: json,
  base: json,
  createdAt: time,
  updatedAt: time,
});

export const writeResultSchema = object({
  accepted: { type: 'array', items: object({ id: string, changeId: string }) },
  unchanged: { type: 'array', items: string },
  repeated: { type: 'array', items: string },
});

export const retryResultSchema = object({
  stored: { type: 'array', items: string },
  failing: { type: 'array', items: object({ id: string, errorPath: string, error: string }) },
  superseded: { type: 'array', items: string },
});

export const discardedSchema = object({
  discarded: { type: 'array', items: string, description: 'The entries discarded.' },
});

export const verifyStartedSchema = object({
  runId: { type: 'string', description: 'Poll GET /syncs/{id}/runs/{runId} for progress and the report.' },
});

export const runStartedSchema = object(
  {
    runId: { type: 'string', description: 'Poll GET /syncs/{id}/runs/{runId} for its counts and its end.' },
    started: {
      type: 'boolean',
      description: 'false: a run of another process was under way, and runId is that run.',
    },
    owner: { type: 'string', description: 'The process running it, when started is false.' },
  },
  ['owner'],
);
