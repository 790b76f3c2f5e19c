import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  type FakeKit,
  type FakeProvider,
  type FakeServerOptions,
  type INVALID_JSON,
  type RunningFake,
  startFakeServer,
} from '../../connectors/fake-kit/index.js';
import { type BodyFormat, CONTENT_TYPES, formatOf, toCsv, tombstoneView, toXml } from './records-formats.js';
import { type ItemResult, type Position, RecordsState } from './records-state.js';

export type PaginationStyle = 'cursor' | 'link' | 'next-url' | 'offset' | 'page';
export const PAGINATION_STYLES: readonly PaginationStyle[] = ['cursor', 'link', 'next-url', 'offset', 'page'];

export interface RecordsFakeSettings {
  /**
   * How `GET /records` pages: `cursor` (`next_cursor` in the body, sent back as `?cursor=`), `link` (a
   * `Link: <…>; rel="next"` header), `next-url` (`next` in the body, an absolute URL), `offset`
   * (`?offset=&limit=`, `total` in the body) or `page` (`?page=&per_page=`, 1-based). Defaults to cursor.
   */
  pagination: PaginationStyle;
  /** Records per page when the request names none. Defaults to 100 (at most 1000 are served). */
  pageSize: number;
  /** A cursor older than this (on the fake's clock) answers 410 `cursor_expired`. Defaults to 5 min. */
  cursorTtlMs: number;
}

export interface RecordsFakeOptions extends FakeServerOptions, Partial<RecordsFakeSettings> {
  /** Records created at start. */
  seed?: number;
}

export interface RunningRecordsFake extends RunningFake {
  /** The fake's data, for assertions (`state.live()` is every live record). */
  readonly state: RecordsState;
  readonly settings: RecordsFakeSettings;
  /** Pages served so far, and how many times the most fetched one was. */
  pageStats(): { pages: number; maxFetchesOfOnePage: number };
}

const MAX_PAGE = 1000;

/**
 * A stateful records API, for sync tests (ours and users'): a list endpoint with five pagination
 * styles, a modified-since filter (inclusive, as most APIs: readers dedupe by key), tombstones, cursors
 * that expire, JSON, XML or CSV bodies, per-record reads and writes, and a batch write answering 207
 * with per-item results when some fail (an `email` without `@` is refused), idempotent by
 * `Idempotency-Key`. Faults (429 bursts with Retry-After, 5xx, slow pages, resets) and the clock come
 * from the fake kit's control plane; `/_fake/seed`, `/_fake/mutate`, `/_fake/records` and
 * `/_fake/settings` are this fake's own.
 */
export function recordsFake(settings: RecordsFakeSettings, initialSeed = 0) {
  const initial = { ...settings };
  let state: RecordsState | undefined;
  const fetches = new Map<string, number>();
  let pages = 0;
  const idempotent = new Map<string, { status: number; body: unknown }>();
  const provider: FakeProvider & {
    state(): RecordsState;
    pageStats(): { pages: number; maxFetchesOfOnePage: number };
  } = {
    name: 'records',
    state: () => state!,
    pageStats: () => ({ pages, maxFetchesOfOnePage: Math.max(0, ...fetches.values()) }),
    routes(app: FastifyInstance, kit: FakeKit) {
      state ??= new RecordsState(() => kit.clock.now());
      if (initialSeed > 0 && state.liveCount === 0) seed(state, initialSeed, {});
      routes(app, kit, state, settings, {
        served(key) {
          pages++;
          fetches.set(key, (fetches.get(key) ?? 0) + 1);
        },
        idempotent,
      });
    },
    describe: () => ({
      settings,
      api: [
        'GET /records?limit&cursor|offset|page&modified_since&include_deleted&format=json|xml|csv',
        'GET /records/deleted?since',
        'GET|PUT|PATCH|DELETE /records/:id',
        'POST /records',
        'POST /records/batch { upserts, deletes }',
      ],
      control: ['POST /_fake/mutate', 'GET /_fake/records', 'POST /_fake/settings'],
      auth: 'any Authorization: Bearer <token>',
    }),
    reset() {
      Object.assign(settings, initial);
      state?.reset();
      fetches.clear();
      pages = 0;
      idempotent.clear();
    },
    seed(input) {
      const body = (input ?? {}) as { count?: unknown; fields?: unknown };
      const count =
        typeof body.count === 'number' && Number.isInteger(body.count) && body.count > 0 ? body.count : 0;
      return { ids: seed(state!, count, (body.fields as Record<string, unknown>) ?? {}) };
    },
    stats: () => ({
      live: state?.liveCount ?? 0,
      pagesServed: pages,
      maxFetchesOfOnePage: Math.max(0, ...fetches.values()),
    }),
  };
  return provider;
}

/** Starts the records fake on 127.0.0.1 (`patchbay fake records`). */
export async function startRecordsFake(options: RecordsFakeOptions = {}): Promise<RunningRecordsFake> {
  const settings: RecordsFakeSettings = {
    pagination: options.pagination ?? 'cursor',
    pageSize: options.pageSize ?? 100,
    cursorTtlMs: options.cursorTtlMs ?? 300_000,
  };
  checkSettings(settings);
  const provider = recordsFake(settings, options.seed ?? 0);
  const fake = await startFakeServer(provider, options);
  return Object.assign(fake, {
    state: provider.state(),
    settings,
    pageStats: () => provider.pageStats(),
  });
}

function checkSettings(settings: RecordsFakeSettings): void {
  if (!PAGINATION_STYLES.includes(settings.pagination)) {
    throw new TypeError(
      `pagination must be one of ${PAGINATION_STYLES.join(', ')}, got ${JSON.stringify(settings.pagination)}`,
    );
  }
  if (!Number.isInteger(settings.pageSize) || settings.pageSize < 1 || settings.pageSize > MAX_PAGE) {
    throw new TypeError(
      `pageSize must be an integer from 1 to ${MAX_PAGE}, got ${JSON.stringify(settings.pageSize)}`,
    );
  }
  if (!Number.isFinite(settings.cursorTtlMs) || settings.cursorTtlMs < 0) {
    throw new TypeError(
      `cursorTtlMs must be a number of ms ≥ 0, got ${JSON.stringify(settings.cursorTtlMs)}`,
    );
  }
}

const NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Dennis'];

function seed(state: RecordsState, count: number, fields: Record<string, unknown>): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = state.nextId();
    const n = Number(id.slice(4));
    state.put(
      id,
      {
        name: `${NAMES[n % NAMES.length]} ${n}`,
        email: `user${n}@example.com`,
        status: n % 3 === 0 ? 'inactive' : 'active',
        score: n % 100,
        ...fields,
      },
      false,
    );
    ids.push(id);
  }
  return ids;
}

/** A small seeded PRNG (mulberry32), so `/_fake/mutate` with a seed repeats itself. */
function prng(seedValue: number): () => number {
  let a = seedValue >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Hooks {
  served(positionKey: string): void;
  idempotent: Map<string, { status: number; body: unknown }>;
}

interface CursorData {
  /** Position after which the next page starts. */
  u: number;
  i: string;
  /** The listing's modified-since and include-deleted, carried along. */
  s: number | null;
  d: boolean;
  /** When the cursor was issued (fake clock). */
  t: number;
}

function routes(
  app: FastifyInstance,
  kit: FakeKit,
  state: RecordsState,
  settings: RecordsFakeSettings,
  hooks: Hooks,
) {
  const problem = (reply: FastifyReply, status: number, code: string, message: string) =>
    reply.status(status).send({ error: { code, message } });

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/_fake')) return;
    if (!/^Bearer \S+/.test(request.headers.authorization ?? '')) {
      return problem(reply, 401, 'unauthorized', 'send Authorization: Bearer <any token>');
    }
  });

  app.get('/records', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const format = formatOf(q.format, request.headers.accept);
    if (!format) return problem(reply, 400, 'invalid_format', 'format must be json, xml or csv');
    const limit = q.limit ?? q.per_page;
    const size = limit === undefined ? settings.pageSize : Number(limit);
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE) {
      return problem(reply, 400, 'invalid_limit', `limit must be an integer from 1 to ${MAX_PAGE}`);
    }
    const sinceText = q.modified_since;
    const since = sinceText === undefined ? undefined : parseTime(sinceText);
    if (sinceText !== undefined && since === undefined) {
      return problem(
        reply,
        400,
        'invalid_modified_since',
        'modified_since must be an ISO date-time or epoch ms',
      );
    }
    const includeDeleted = q.include_deleted === 'true';
    const origin = kit.origin(request);
    const now = kit.clock.now();
    const style = settings.pagination;

    if (style === 'offset' || style === 'page') {
      const offset = style === 'offset' ? Number(q.offset ?? 0) : (Number(q.page ?? 1) - 1) * size;
      if (!Number.isInteger(offset) || offset < 0) {
        return problem(
          reply,
          400,
          'invalid_offset',
          `${style === 'offset' ? 'offset' : 'page'} must be a whole number${style === 'page' ? ' ≥ 1' : ''}`,
        );
      }
      hooks.served(`${style}:${since ?? ''}:${includeDeleted}:${offset}:${size}`);
      const rows = state.listAt(offset, size, since, includeDeleted);
      const total = state.count(since, includeDeleted);
      const data = rows.map((r) => (r.deleted ? tombstoneView(r.record) : r.record));
      const extra =
        style === 'offset'
          ? { total, offset, limit: size }
          : { total, page: offset / size + 1, per_page: size, total_pages: Math.ceil(total / size) };
      return send(reply, format, data, extra);
    }

    let after: Position | undefined;
    let listingSince = since;
    let listingDeleted = includeDeleted;
    if (q.cursor !== undefined) {
      const cursor = decodeCursor(q.cursor);
      if (!cursor) return problem(reply, 400, 'invalid_cursor', 'cursor is not one this API returned');
      if (now - cursor.t > settings.cursorTtlMs) {
        return problem(reply, 410, 'cursor_expired', 'The cursor has expired; start the listing again');
      }
      after = { u: cursor.u, id: cursor.i };
      listingSince = cursor.s ?? undefined;
      listingDeleted = cursor.d;
    }
    hooks.served(
      `keyset:${listingSince ?? ''}:${listingDeleted}:${after ? `${after.u}/${after.id}` : 'start'}:${size}`,
    );
    const rows = state.listAfter(after, listingSince, size + 1, listingDeleted);
    const more = rows.length > size;
    const page = rows.slice(0, size);
    const data = page.map((r) => (r.deleted ? tombstoneView(r.record) : r.record));
    const last = page.at(-1);
    const next =
      more && last
        ? encodeCursor({
            u: last.position.u,
            i: last.position.id,
            s: listingSince ?? null,
            d: listingDeleted,
            t: now,
          })
        : undefined;
    const nextUrl =
      next === undefined
        ? undefined
        : `${origin}/records?cursor=${next}&limit=${size}${q.format ? `&format=${q.format}` : ''}`;
    if (style === 'link' || format === 'csv') {
      if (nextUrl) reply.header('link', `<${nextUrl}>; rel="next"`);
      return send(reply, format, data, {});
    }
    if (style === 'next-url') return send(reply, format, data, { next: nextUrl ?? null });
    return send(reply, format, data, { next_cursor: next ?? null });
  });

  app.get('/records/deleted', async (request, reply) => {
    const q = request.query as Record<string, string | undefined>;
    const since = parseTime(q.since ?? '0');
    if (since === undefined)
      return problem(reply, 400, 'invalid_since', 'since must be an ISO date-time or epoch ms');
    return { data: state.tombstones(since) };
  });

  app.get('/records/:id', async (request, reply) => {
    const record = state.get((request.params as { id: string }).id);
    return record ?? problem(reply, 404, 'not_found', 'no such record');
  });

  app.post('/records', async (request, reply) => {
    const body = request.body;
    if (!isObject(body)) return problem(reply, 400, 'invalid_body', 'send a JSON object');
    const id = typeof body.id === 'string' && body.id !== '' ? body.id : state.nextId();
    if (state.get(id)) return problem(reply, 409, 'exists', `record ${id} exists`);
    const invalid = validate(body);
    if (invalid) return problem(reply, 422, 'invalid_record', invalid);
    return reply.status(201).send(state.put(id, body, false).record);
  });

  const write = (merge: boolean) => async (request: FastifyRequest, reply: FastifyReply) => {
    const body = request.body;
    if (!isObject(body)) return problem(reply, 400, 'invalid_body', 'send a JSON object');
    const id = (request.params as { id: string }).id;
    if (merge && !state.get(id)) return problem(reply, 404, 'not_found', 'no such record');
    const invalid = validate(body);
    if (invalid) return problem(reply, 422, 'invalid_record', invalid);
    const { record, created } = state.put(id, body, merge);
    return reply.status(created ? 201 : 200).send(record);
  };
  app.put('/records/:id', write(false));
  app.patch('/records/:id', write(true));

  app.delete('/records/:id', async (request, reply) => {
    if (!state.delete((request.params as { id: string }).id))
      return problem(reply, 404, 'not_found', 'no such record');
    return reply.status(204).send();
  });

  app.post('/records/batch', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (typeof key === 'string' && hooks.idempotent.has(key)) {
      const saved = hooks.idempotent.get(key)!;
      return reply.status(saved.status).header('idempotent-replayed', 'true').send(saved.body);
    }
    const body = request.body as { upserts?: unknown; deletes?: unknown } | typeof INVALID_JSON;
    if (!isObject(body))
      return problem(reply, 400, 'invalid_body', 'send { "upserts": [...], "deletes": [...] }');
    const upserts = body.upserts ?? [];
    const deletes = body.deletes ?? [];
    if (!Array.isArray(upserts) || !Array.isArray(deletes) || upserts.length + deletes.length > 100) {
      return problem(reply, 400, 'invalid_batch', 'upserts and deletes are lists, at most 100 items in all');
    }
    const results: ItemResult[] = [];
    for (const item of upserts) {
      if (!isObject(item) || typeof item.id !== 'string' || item.id === '') {
        results.push({
          id: String((item as { id?: unknown })?.id ?? ''),
          status: 400,
          error: 'an upsert needs an id',
        });
        continue;
      }
      const invalid = validate(item);
      if (invalid) {
        results.push({ id: item.id, status: 422, error: invalid });
        continue;
      }
      const { record, created } = state.put(item.id, item, true);
      results.push({ id: item.id, status: created ? 201 : 200, record });
    }
    for (const id of deletes) {
      if (typeof id !== 'string') results.push({ id: String(id), status: 400, error: 'a delete is an id' });
      else if (state.delete(id)) results.push({ id, status: 204 });
      else results.push({ id, status: 404, error: 'no such record' });
    }
    const partial = results.some((r) => r.status >= 400);
    const answer = { status: partial ? 207 : 200, body: { results } };
    if (typeof key === 'string') hooks.idempotent.set(key, answer);
    return reply.status(answer.status).send(answer.body);
  });

  app.post('/_fake/mutate', async (request, reply) => {
    const body = (isObject(request.body) ? request.body : {}) as Record<string, unknown>;
    const n = (name: string) => {
      const v = body[name];
      return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : 0;
    };
    const random = prng(typeof body.seed === 'number' ? body.seed : Date.now());
    const live = state.liveIds();
    const pick = () => live.splice(Math.floor(random() * live.length), 1)[0];
    const updated: string[] = [];
    const deleted: string[] = [];
    for (let i = 0; i < n('updates') && live.length > 0; i++) {
      const id = pick()!;
      state.put(
        id,
        { score: Math.floor(random() * 1000), name: `changed ${Math.floor(random() * 1e6)}` },
        true,
      );
      updated.push(id);
    }
    for (let i = 0; i < n('deletes') && live.length > 0; i++) {
      const id = pick()!;
      state.delete(id);
      deleted.push(id);
    }
    const created = seed(state, n('creates'), {});
    return reply.send({ created, updated, deleted });
  });

  app.get('/_fake/records', async () => ({ records: state.live() }));

  app.post('/_fake/settings', async (request, reply) => {
    const body = request.body;
    if (!isObject(body))
      return problem(reply, 400, 'invalid_body', 'send { "pagination", "pageSize", "cursorTtlMs" }');
    const next = { ...settings, ...body } as RecordsFakeSettings;
    try {
      checkSettings(next);
    } catch (err) {
      return problem(reply, 400, 'invalid_settings', (err as Error).message);
    }
    Object.assign(settings, next);
    return { settings };
  });
}

function send(
  reply: FastifyReply,
  format: BodyFormat,
  data: Record<string, unknown>[],
  extra: Record<string, unknown>,
) {
  reply.header('content-type', CONTENT_TYPES[format]);
  if (format === 'xml') return reply.send(toXml(data, extra));
  if (format === 'csv') return reply.send(toCsv(data));
  return reply.send({ data, ...extra });
}

/** The fake refuses what a real API would: a non-string name, an email without `@`. */
function validate(record: Record<string, unknown>): string | undefined {
  if ('name' in record && typeof record.name !== 'string') return 'name must be a string';
  if ('email' in record && (typeof record.email !== 'string' || !record.email.includes('@'))) {
    return 'email must be an address with @';
  }
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseTime(text: string): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

function encodeCursor(c: CursorData): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(text: string): CursorData | undefined {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as CursorData;
    if (typeof c.u !== 'number' || typeof c.i !== 'string' || typeof c.t !== 'number') return undefined;
    return c;
  } catch {
    return undefined;
  }
}
