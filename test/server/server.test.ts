import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATION_TABLE } from '../../src/store/migrate.js';
import { JobQueue } from '../../src/store/queue.js';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';

const TOKEN = 'test-admin-token-0123456789';

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`server on ${dialect.name}`, () => {
    let t: TestEngine;
    beforeAll(async () => {
      t = await openTestEngine(dialect, { server: { adminToken: TOKEN } });
    });
    afterAll(async () => t?.close());

    it('answers /healthz and /readyz', async () => {
      expect((await t.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
      const ready = await t.app.inject('/readyz');
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toMatchObject({
        status: 'ok',
        checks: { store: { ok: true }, migrations: { ok: true } },
      });
    });

    it('serves Prometheus metrics with the request histogram and queue depth', async () => {
      await new JobQueue(t.db).add([{ queue: 'metrics-test', payload: 1 }]);
      await t.app.inject('/healthz');
      const res = await t.app.inject('/metrics');
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.body).toContain(
        'patchbay_http_request_duration_seconds_count{method="GET",route="/healthz",status="200"}',
      );
      expect(res.body).toContain('patchbay_queue_jobs{queue="metrics-test",state="ready"} 1');
      expect(res.body).toContain('patchbay_process_cpu_user_seconds_total');
    });

    it('requires the admin bearer token on /api/v1', async () => {
      expect((await t.app.inject('/api/v1/queues')).statusCode).toBe(401);
      const wrong = await t.app.inject({ url: '/api/v1/queues', headers: { authorization: 'Bearer nope' } });
      expect(wrong.statusCode).toBe(401);
      expect(wrong.json().error).toMatchObject({ code: 'UNAUTHORIZED' });
      const basic = await t.app.inject({
        url: '/api/v1/queues',
        headers: { authorization: `Basic ${TOKEN}` },
      });
      expect(basic.statusCode).toBe(401);
      const ok = await t.app.inject({ url: '/api/v1/queues', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(ok.statusCode).toBe(200);
      expect(ok.json().data).toEqual(
        expect.arrayContaining([expect.objectContaining({ queue: 'metrics-test' })]),
      );
    });

    it('refuses a query parameter no admin route takes with a 400 naming it, on every route', async () => {
      const get = (url: string) => t.app.inject({ url, headers: { authorization: `Bearer ${TOKEN}` } });
      // The one delivery.md once documented: ?destinationId= for ?destination=.
      for (const [url, name] of [
        ['/api/v1/deliveries?destinationId=app', 'destinationId'],
        ['/api/v1/events?sorce=gh', 'sorce'],
        ['/api/v1/queues?verbose=1', 'verbose'],
        ['/api/v1/queues/deliveries/dead?limit=5&offset=5', 'offset'],
        ['/api/v1/sources?all=true', 'all'],
        ['/api/v1/destinations?x=1', 'x'],
        ['/api/v1/connections?state=active', 'state'],
      ] as const) {
        const res = await get(url);
        expect(res.statusCode, url).toBe(400);
        expect(res.json().error, url).toMatchObject({
          code: 'INVALID_ARGUMENT',
          message: `querystring: unknown parameter "${name}"`,
        });
      }
      expect((await get('/api/v1/deliveries?destination=app')).statusCode).toBe(200);
      // Outside the admin API parameters belong to the sender (Graph's validationToken, OAuth's code).
      expect((await t.app.inject('/healthz?probe=1')).statusCode).toBe(200);
    });

    it('publishes an OpenAPI document of the admin API', async () => {
      const doc = (await t.app.inject('/api/v1/openapi.json')).json();
      expect(doc.openapi).toBe('3.1.0');
      expect(Object.keys(doc.paths)).toContain('/api/v1/queues/{queue}/dead/requeue');
    });

    it('echoes a sane x-request-id, replaces a hostile one, and logs it', async () => {
      const given = await t.app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
      expect(given.headers['x-request-id']).toBe('abc-123');
      const hostile = await t.app.inject({
        url: '/healthz',
        headers: { 'x-request-id': 'a\nb {"level":60}' },
      });
      expect(hostile.headers['x-request-id']).toMatch(/^[0-9A-Z]{26}$/);
      expect(t.logs.lines.some((l) => l.includes('"requestId":"abc-123"'))).toBe(true);
    });

    it('gives bad input a clear 4xx, never a 500', async () => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const badParam = await t.app.inject({ url: '/api/v1/queues/BAD%20NAME/dead', headers: auth });
      expect(badParam.statusCode).toBe(400);
      expect(badParam.json().error.message).toMatch(/^params\.queue: /);
      const badJson = await t.app.inject({
        method: 'POST',
        url: '/api/v1/queues/q/dead/requeue',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: '{"ids": [',
      });
      expect(badJson.statusCode).toBe(400);
      const extra = await t.app.inject({
        method: 'POST',
        url: '/api/v1/queues/q/dead/requeue',
        headers: auth,
        payload: { ids: 'x', other: 1 },
      });
      expect(extra.statusCode).toBe(400);
      const missing = await t.app.inject('/nope');
      expect(missing.statusCode).toBe(404);
      expect(missing.json().error.code).toBe('NOT_FOUND');
    });

    it('lists and requeues dead jobs through the admin API', async () => {
      const auth = { authorization: `Bearer ${TOKEN}` };
      const queue = new JobQueue(t.db);
      await queue.add([{ queue: 'dlq-test', payload: { a: 1 }, maxAttempts: 1 }]);
      const [job] = await queue.claim('dlq-test');
      await queue.fail(job!, { error: 'nope' });
      const dead = await t.app.inject({ url: '/api/v1/queues/dlq-test/dead', headers: auth });
      expect(dead.json().data).toMatchObject([{ id: job!.id, lastError: 'nope', payload: { a: 1 } }]);
      const requeued = await t.app.inject({
        method: 'POST',
        url: '/api/v1/queues/dlq-test/dead/requeue',
        headers: auth,
        payload: {},
      });
      expect(requeued.json()).toEqual({ requeued: 1 });
    });
  });

  describe.skipIf(!available)(`readiness on ${dialect.name}`, () => {
    it('answers 503 naming the failing check when the store has migrations this process has not applied', async () => {
      const t = await openTestEngine(dialect);
      try {
        // As after another process rolled the schema back (or a newer binary started on an older store).
        await sql`delete from ${sql.table(MIGRATION_TABLE)} where name = '0001-jobs'`.execute(t.db.db);
        const res = await t.app.inject('/readyz');
        expect(res.statusCode).toBe(503);
        expect(res.json().checks.migrations).toMatchObject({
          ok: false,
          detail: expect.stringMatching(/^pending migrations: 0001-jobs/),
        });
      } finally {
        await t.close();
      }
    });

    it('refuses to open without migrating a store that has pending migrations, naming them', async () => {
      await expect(openTestEngine(dialect, {}, { migrate: false })).rejects.toThrow(
        /pending migrations \(0001-jobs, .*\): run `patchbay migrate`/,
      );
    });
  });
}
