import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
      await t.engine.queue.add([{ queue: 'metrics-test', payload: 1 }]);
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
      await t.engine.queue.add([{ queue: 'dlq-test', payload: { a: 1 }, maxAttempts: 1 }]);
      const [job] = await t.engine.queue.claim('dlq-test');
      await t.engine.queue.fail(job!, { error: 'nope' });
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
    it('answers 503 naming the failing check when migrations are pending', async () => {
      const t = await openTestEngine(dialect, {}, { migrate: false });
      try {
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
  });
}
