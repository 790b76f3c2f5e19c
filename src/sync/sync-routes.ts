import type { FastifyInstance } from 'fastify';
import { decodeCursor, encodeCursor, pageQuerySchema, parseSince } from '../core/api/pagination.js';
import { pageOf } from '../core/api/schemas.js';
import type { Clock } from '../core/clock.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { QuarantineStatus, SyncChangeStatus } from '../store/sync/index.js';
import type { ConflictChoice } from './conflict-queue.js';
import type { LocalWrite } from './local-writes.js';
import { readRecordCursor, recordCursor } from './record-cursor.js';
import {
  changeSchema,
  conflictSchema,
  discardedSchema,
  quarantineSchema,
  recordSchema,
  retryResultSchema,
  runSchema,
  runStartedSchema,
  syncListSchema,
  syncStatusSchema,
  verifyStartedSchema,
  writeResultSchema,
} from './sync-schemas.js';
import type { SyncService } from './sync-service.js';
import { changeView, conflictView, quarantineView, recordView, runView, statusView } from './sync-views.js';

const id = { type: 'string', minLength: 1, maxLength: 64 } as const;
const params = (...names: string[]) =>
  ({
    type: 'object',
    required: names,
    properties: Object.fromEntries(
      names.map((n) => [n, n === 'recordId' ? { type: 'string', minLength: 1, maxLength: 512 } : id]),
    ),
  }) as const;
const query = (properties: Record<string, unknown>) => ({
  type: 'object',
  additionalProperties: false,
  properties,
});
const noQuery = query({});
const TAGS = ['syncs'];

function page<T extends { id: string }, V>(rows: T[], limit: number, view: (row: T) => V) {
  const data = rows.slice(0, limit);
  return {
    data: data.map(view),
    ...(rows.length > limit && { nextCursor: encodeCursor(data.at(-1)!.id) }),
  };
}

function ids(body: { ids?: unknown; all?: unknown } | undefined): readonly string[] | 'all' {
  if (body?.all === true) return 'all';
  if (Array.isArray(body?.ids) && body.ids.length > 0 && body.ids.every((i) => typeof i === 'string')) {
    return body.ids as string[];
  }
  throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'send { "ids": ["qr_…"] } or { "all": true }');
}

/** `/api/v1/syncs…`: status, runs, records, local writes, quarantine, conflicts, held deletes, verify. */
export async function syncRoutes(app: FastifyInstance, syncs: SyncService, clock: Clock): Promise<void> {
  app.get(
    '/syncs',
    {
      schema: {
        tags: TAGS,
        summary: 'Every sync with its state and health.',
        operationId: 'listSyncs',
        response: { 200: syncListSchema },
        querystring: noQuery,
      },
    },
    async () => ({
      data: (await syncs.list()).map(statusView),
    }),
  );

  app.get<{ Params: { id: string } }>(
    '/syncs/:id',
    {
      schema: {
        tags: TAGS,
        summary:
          'One sync: state, last and next run, records, quarantine, conflicts, held deletes, health 0–100.',
        operationId: 'getSync',
        response: { 200: syncStatusSchema },
        params: params('id'),
        querystring: noQuery,
      },
    },
    async (request) => statusView(await syncs.status(request.params.id)),
  );

  app.post<{ Params: { id: string }; Body: { full?: boolean } | undefined }>(
    '/syncs/:id/run',
    {
      schema: {
        tags: TAGS,
        summary:
          'Ask for a run now ({ "full": true } for a full resync); any Patchbay process running syncs takes it.',
        operationId: 'runSync',
        response: { 202: syncStatusSchema },
        params: params('id'),
        body: { type: 'object', additionalProperties: false, properties: { full: { type: 'boolean' } } },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(statusView(await syncs.request(request.params.id, { full: request.body?.full === true }))),
  );

  app.post<{ Params: { id: string }; Body: { full?: boolean } | undefined }>(
    '/syncs/:id/runs',
    {
      schema: {
        tags: TAGS,
        summary:
          'Start a run now in the process serving this API ({ "full": true } for a full resync); answers 202 with the run to poll. When another process\'s run is under way, answers that run (started: false).',
        operationId: 'startSyncRun',
        response: { 202: runStartedSchema },
        params: params('id'),
        body: { type: 'object', additionalProperties: false, properties: { full: { type: 'boolean' } } },
      },
    },
    async (request, reply) =>
      reply.code(202).send(await syncs.startRun(request.params.id, { full: request.body?.full === true })),
  );

  for (const action of ['pause', 'resume'] as const) {
    app.post<{ Params: { id: string } }>(
      `/syncs/:id/${action}`,
      {
        schema: {
          tags: TAGS,
          operationId: action === 'pause' ? 'pauseSync' : 'resumeSync',
          summary: action === 'pause' ? 'Stop scheduling the sync.' : 'Schedule it again.',
          response: { 200: syncStatusSchema },
          params: params('id'),
        },
      },
      async (request) => statusView(await syncs[action](request.params.id)),
    );
  }

  app.get<{ Params: { id: string }; Querystring: { cursor?: string; limit: number } }>(
    '/syncs/:id/runs',
    {
      schema: {
        tags: TAGS,
        summary: 'Runs, newest first.',
        operationId: 'listSyncRuns',
        response: { 200: pageOf(runSchema) },
        params: params('id'),
        querystring: query({ ...pageQuerySchema }),
      },
    },
    async (request) => {
      const { cursor, limit } = request.query;
      const before = decodeCursor(cursor);
      return page(await syncs.runs(request.params.id, { limit, ...(before && { before }) }), limit, runView);
    },
  );

  app.get<{ Params: { id: string; runId: string } }>(
    '/syncs/:id/runs/:runId',
    {
      schema: {
        tags: TAGS,
        summary: 'One run (a verify run carries its report).',
        operationId: 'getSyncRun',
        response: { 200: runSchema },
        params: params('id', 'runId'),
        querystring: noQuery,
      },
    },
    async (request) => runView(await syncs.run(request.params.id, request.params.runId)),
  );

  app.get<{
    Params: { id: string };
    Querystring: { cursor?: string; limit: number; modifiedAfter?: string; includeDeleted?: boolean };
  }>(
    '/syncs/:id/records',
    {
      schema: {
        tags: TAGS,
        summary: 'Stored records in (updatedAt, id) order; modifiedAfter gives the changes since a time.',
        operationId: 'listSyncRecords',
        response: { 200: pageOf(recordSchema) },
        params: params('id'),
        querystring: query({
          ...pageQuerySchema,
          limit: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
          modifiedAfter: {
            type: 'string',
            maxLength: 40,
            description: 'ISO date-time, epoch ms, or a duration ago (2h)',
          },
          includeDeleted: { type: 'boolean', default: false },
        }),
      },
    },
    async (request) => {
      const { cursor, limit, modifiedAfter, includeDeleted } = request.query;
      const after = readRecordCursor(cursor);
      const since = parseSince(modifiedAfter, clock.now());
      const rows = await syncs.records(request.params.id, {
        limit,
        includeDeleted: includeDeleted === true,
        ...(after && { after }),
        ...(since !== undefined && { modifiedAfter: since }),
      });
      const data = rows.slice(0, limit);
      const last = data.at(-1);
      return {
        data: data.map(recordView),
        ...(rows.length > limit && last && { nextCursor: recordCursor(last.updatedAt, last.id) }),
      };
    },
  );

  app.get<{ Params: { id: string; recordId: string } }>(
    '/syncs/:id/records/:recordId',
    {
      schema: {
        tags: TAGS,
        summary: 'One stored record.',
        operationId: 'getSyncRecord',
        response: { 200: recordSchema },
        params: params('id', 'recordId'),
        querystring: noQuery,
      },
    },
    async (request) => recordView(await syncs.record(request.params.id, request.params.recordId)),
  );

  app.post<{ Params: { id: string }; Body: { records: LocalWrite[]; idempotencyKey?: string } }>(
    '/syncs/:id/records',
    {
      schema: {
        tags: TAGS,
        summary:
          'Local changes to push ({ "records": [{ "data": {…} } | { "id", "delete": true }], "idempotencyKey" }; or an Idempotency-Key header).',
        operationId: 'writeSyncRecords',
        response: { 202: writeResultSchema },
        params: params('id'),
        body: {
          type: 'object',
          required: ['records'],
          additionalProperties: false,
          properties: {
            records: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'object' } },
            idempotencyKey: { type: 'string', minLength: 1, maxLength: 200 },
          },
        },
      },
    },
    async (request, reply) => {
      const header = request.headers['idempotency-key'];
      const key = request.body.idempotencyKey ?? (typeof header === 'string' ? header : undefined);
      const result = await syncs.write(
        request.params.id,
        request.body.records,
        key === undefined ? {} : { idempotencyKey: key },
      );
      return reply.code(202).send(result);
    },
  );

  app.get<{
    Params: { id: string };
    Querystring: { cursor?: string; limit: number; status?: SyncChangeStatus };
  }>(
    '/syncs/:id/changes',
    {
      schema: {
        tags: TAGS,
        summary: 'Local changes and what became of them (pending, pushed, failed, conflict, superseded).',
        operationId: 'listSyncChanges',
        response: { 200: pageOf(changeSchema) },
        params: params('id'),
        querystring: query({
          ...pageQuerySchema,
          status: { enum: ['pending', 'pushed', 'failed', 'conflict', 'superseded'] },
        }),
      },
    },
    async (request) => {
      const { cursor, limit, status } = request.query;
      const after = decodeCursor(cursor);
      return page(
        await syncs.changes(request.params.id, { limit, ...(status && { status }), ...(after && { after }) }),
        limit,
        changeView,
      );
    },
  );

  app.get<{
    Params: { id: string };
    Querystring: { cursor?: string; limit: number; status?: QuarantineStatus };
  }>(
    '/syncs/:id/quarantine',
    {
      schema: {
        tags: TAGS,
        summary: 'Records that failed the mapping or the schema (open, resolved, discarded, superseded).',
        operationId: 'listSyncQuarantine',
        response: { 200: pageOf(quarantineSchema) },
        params: params('id'),
        querystring: query({
          ...pageQuerySchema,
          status: { enum: ['open', 'resolved', 'discarded', 'superseded'] },
        }),
      },
    },
    async (request) => {
      const { cursor, limit, status } = request.query;
      const after = decodeCursor(cursor);
      return page(
        await syncs.quarantine(request.params.id, {
          limit,
          ...(status && { status }),
          ...(after && { after }),
        }),
        limit,
        quarantineView,
      );
    },
  );

  app.get<{ Params: { id: string; entryId: string } }>(
    '/syncs/:id/quarantine/:entryId',
    {
      schema: {
        tags: TAGS,
        summary: 'One quarantined record with its error and raw data.',
        operationId: 'getSyncQuarantined',
        response: { 200: quarantineSchema },
        params: params('id', 'entryId'),
        querystring: noQuery,
      },
    },
    async (request) => quarantineView(await syncs.quarantined(request.params.id, request.params.entryId)),
  );

  const selection = {
    type: 'object',
    additionalProperties: false,
    properties: {
      ids: { type: 'array', items: { type: 'string', maxLength: 100 }, maxItems: 1000 },
      all: { type: 'boolean' },
    },
  } as const;
  app.post<{ Params: { id: string }; Body: { ids?: string[]; all?: boolean } }>(
    '/syncs/:id/quarantine/retry',
    {
      schema: {
        tags: TAGS,
        summary:
          'Retry quarantined records with the current mapping and schema ({ "ids": [...] } or { "all": true }).',
        operationId: 'retrySyncQuarantine',
        response: { 200: retryResultSchema },
        params: params('id'),
        body: selection,
      },
    },
    async (request) => syncs.retryQuarantine(request.params.id, ids(request.body)),
  );
  app.post<{ Params: { id: string }; Body: { ids?: string[]; all?: boolean } }>(
    '/syncs/:id/quarantine/discard',
    {
      schema: {
        tags: TAGS,
        operationId: 'discardSyncQuarantine',
        summary: 'Discard quarantined records.',
        params: params('id'),
        body: selection,
        response: { 200: discardedSchema },
      },
    },
    async (request) => ({ discarded: await syncs.discardQuarantine(request.params.id, ids(request.body)) }),
  );

  app.get<{
    Params: { id: string };
    Querystring: { cursor?: string; limit: number; status?: 'open' | 'resolved' };
  }>(
    '/syncs/:id/conflicts',
    {
      schema: {
        tags: TAGS,
        summary: 'Conflicts of the manual queue, with both versions.',
        operationId: 'listSyncConflicts',
        response: { 200: pageOf(conflictSchema) },
        params: params('id'),
        querystring: query({ ...pageQuerySchema, status: { enum: ['open', 'resolved'] } }),
      },
    },
    async (request) => {
      const { cursor, limit, status } = request.query;
      const after = decodeCursor(cursor);
      return page(
        await syncs.conflicts(request.params.id, {
          limit,
          ...(status && { status }),
          ...(after && { after }),
        }),
        limit,
        conflictView,
      );
    },
  );

  app.get<{ Params: { id: string; conflictId: string } }>(
    '/syncs/:id/conflicts/:conflictId',
    {
      schema: {
        tags: TAGS,
        summary: 'One conflict.',
        operationId: 'getSyncConflict',
        response: { 200: conflictSchema },
        params: params('id', 'conflictId'),
        querystring: noQuery,
      },
    },
    async (request) => conflictView(await syncs.conflict(request.params.id, request.params.conflictId)),
  );

  app.post<{
    Params: { id: string; conflictId: string };
    Body: { resolution?: 'local' | 'source'; data?: Record<string, unknown> };
  }>(
    '/syncs/:id/conflicts/:conflictId/resolve',
    {
      schema: {
        tags: TAGS,
        summary:
          'Resolve a conflict: { "resolution": "local" | "source" } or { "data": { the merged record } }.',
        operationId: 'resolveSyncConflict',
        response: { 200: conflictSchema },
        params: params('id', 'conflictId'),
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { resolution: { enum: ['local', 'source'] }, data: { type: 'object' } },
        },
      },
    },
    async (request) => {
      const body = request.body ?? {};
      if ((body.resolution === undefined) === (body.data === undefined)) {
        throw new PatchbayError(
          ErrorCode.INVALID_ARGUMENT,
          'send { "resolution": "local" | "source" } or { "data": {…} }, one of them',
        );
      }
      const choice: ConflictChoice = body.data !== undefined ? { data: body.data } : body.resolution!;
      return conflictView(await syncs.resolveConflict(request.params.id, request.params.conflictId, choice));
    },
  );

  for (const action of ['confirm', 'discard'] as const) {
    app.post<{ Params: { id: string } }>(
      `/syncs/:id/deletes/${action}`,
      {
        schema: {
          tags: TAGS,
          operationId: action === 'confirm' ? 'confirmSyncDeletes' : 'discardSyncDeletes',
          response: { 200: syncStatusSchema },
          summary:
            action === 'confirm'
              ? 'Let the deletes the safety valve holds go (the next run sweeps them).'
              : 'Drop the held deletes; the records stay.',
          params: params('id'),
        },
      },
      async (request) =>
        statusView(
          await (action === 'confirm'
            ? syncs.confirmDeletes(request.params.id)
            : syncs.discardDeletes(request.params.id)),
        ),
    );
  }

  app.post<{ Params: { id: string }; Body: { repair?: boolean } | undefined }>(
    '/syncs/:id/verify',
    {
      schema: {
        tags: TAGS,
        summary:
          'Compare the store with a full read of the source ({ "repair": true } fixes the drift); answers 202 with the run to poll for progress and the report.',
        operationId: 'verifySync',
        response: { 202: verifyStartedSchema },
        params: params('id'),
        body: { type: 'object', additionalProperties: false, properties: { repair: { type: 'boolean' } } },
      },
    },
    async (request, reply) =>
      reply
        .code(202)
        .send(await syncs.startVerify(request.params.id, { repair: request.body?.repair === true })),
  );
}
