import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PatchbayConfigInput } from '../../src/core/config/schema.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { Receiver } from '../helpers/receiver.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`delivery on ${dialect.name}`, () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    let receiver: Receiver;
    let other: Receiver;
    let t: TestEngine | undefined;
    let clock: FakeClock;

    beforeAll(async () => {
      receiver = await new Receiver([oldSecret, newSecret]).start();
      other = await new Receiver([newSecret]).start();
    });
    afterAll(async () => {
      await receiver.stop();
      await other.stop();
    });
    afterEach(async () => {
      await t?.close();
      t = undefined;
      receiver.received.length = 0;
      other.received.length = 0;
      receiver.behaviour = (_r, res) => void res.writeHead(200).end('ok');
    });

    async function open(
      destinations: NonNullable<PatchbayConfigInput['destinations']>,
      delivery: PatchbayConfigInput['delivery'] = {},
    ) {
      clock = new FakeClock(Date.now());
      t = await openTestEngine(
        dialect,
        { destinations, delivery: { allowedNetworks: ['127.0.0.0/8'], ...delivery } },
        { clock },
      );
      return t;
    }

    /** Runs the next attempt of a delivery the way the worker would. */
    async function attempt(id: string) {
      return t!.engine.delivery.attempt(id, new AbortController().signal);
    }

    async function onlyDelivery(eventId: string, destinationId = 'app') {
      const rows = await t!.engine.delivery.list({ eventId, destinationId, limit: 10 });
      expect(rows).toHaveLength(1);
      return rows[0]!;
    }

    async function operationalEvents(type: string) {
      return t!.engine.events.list({ source: 'patchbay', type, limit: 100 });
    }

    it('routes one delivery per matching destination, and every event to a destination without filters', async () => {
      await open([
        { id: 'app', url: receiver.url, secrets: [oldSecret], events: ['gh.push', 'crm.contact.*'] },
        { id: 'all', url: other.url, secrets: [newSecret] },
        { id: 'never', url: other.url, secrets: [newSecret], events: ['nothing.here'] },
      ]);
      const push = await t!.engine.publish({ source: 'gh', type: 'push', payload: { ref: 'main' } });
      const contact = await t!.engine.publish({ source: 'crm', type: 'contact.propertyChange', payload: {} });
      const issue = await t!.engine.publish({ source: 'gh', type: 'issues.opened', payload: {} });
      const destinationsOf = async (eventId: string) =>
        (await t!.engine.delivery.list({ eventId, limit: 10 })).map((d) => d.destinationId).sort();
      expect(await destinationsOf(push.id)).toEqual(['all', 'app']);
      expect(await destinationsOf(contact.id)).toEqual(['all', 'app']);
      expect(await destinationsOf(issue.id)).toEqual(['all']);
      // A repeated publish is not routed again.
      await t!.engine.publish({ source: 'gh', type: 'push', payload: {}, idempotencyKey: 'k' });
      await t!.engine.publish({ source: 'gh', type: 'push', payload: {}, idempotencyKey: 'k' });
      expect((await t!.engine.delivery.list({ destinationId: 'app', limit: 100 })).length).toBe(3);
    });

    it('signs with every active secret so the standardwebhooks library verifies with the old and the new one', async () => {
      await open([
        { id: 'app', url: receiver.url, secrets: [oldSecret, newSecret] },
        { id: 'new-only', url: other.url, secrets: [newSecret] },
      ]);
      const event = await t!.engine.publish({ type: 'order.created', payload: { total: 12 } });
      expect(await attempt((await onlyDelivery(event.id)).id)).toBeUndefined();
      expect(await attempt((await onlyDelivery(event.id, 'new-only')).id)).toBeUndefined();
      expect(receiver.received).toHaveLength(1);
      expect(receiver.received[0]!.verifiedWith).toBe(0);
      expect(receiver.received[0]!.webhookId).toBe(event.id);
      expect(receiver.received[0]!.headers['webhook-signature']).toMatch(/^v1,\S+ v1,\S+$/);
      expect(JSON.parse(receiver.received[0]!.body)).toMatchObject({
        id: event.id,
        source: 'api',
        type: 'order.created',
        data: { total: 12 },
      });
      expect(other.received[0]!.verifiedWith).toBe(0);
      const delivery = await onlyDelivery(event.id);
      expect(delivery.status).toBe('succeeded');
      const attempts = await t!.engine.delivery.attempts(delivery.id);
      expect(attempts).toMatchObject([
        { attempt: 1, trigger: 'scheduled', statusCode: 200, responseBody: 'ok', outcome: 'succeeded' },
      ]);
    });

    it('retries on the schedule with bounded jitter, announces failing after 4 tries, and dead-letters when exhausted', async () => {
      await open([{ id: 'app', url: receiver.url, secrets: [oldSecret] }]);
      receiver.behaviour = (_r, res) => void res.writeHead(503).end('down');
      const event = await t!.engine.publish({ type: 'x.y', payload: {} });
      const { id } = await onlyDelivery(event.id);
      const schedule = [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];
      for (const [i, base] of schedule.entries()) {
        const before = clock.now();
        const outcome = await attempt(id);
        expect(outcome).toMatchObject({ retryAt: expect.any(Number) });
        const delay = (outcome as { retryAt: number }).retryAt - before;
        expect(delay).toBeGreaterThanOrEqual(base * 0.8);
        expect(delay).toBeLessThanOrEqual(base * 1.2);
        // Not due yet: the job comes back without an attempt.
        expect(await attempt(id)).toMatchObject({ error: 'not due yet' });
        clock.set((outcome as { retryAt: number }).retryAt);
        expect((await operationalEvents('delivery.failing')).length).toBe(i + 1 >= 4 ? 1 : 0);
      }
      expect(await attempt(id)).toBeUndefined();
      const delivery = await onlyDelivery(event.id);
      expect(delivery).toMatchObject({ status: 'failed', attempts: 8, lastStatus: 503 });
      expect(receiver.received).toHaveLength(8);
      const attempts = await t!.engine.delivery.attempts(id);
      expect(attempts.map((a) => a.statusCode)).toEqual(Array(8).fill(503));
      const exhausted = await operationalEvents('delivery.exhausted');
      expect(exhausted).toHaveLength(1);
      expect(JSON.parse(exhausted[0]!.body.toString())).toMatchObject({
        deliveryId: id,
        destinationId: 'app',
        attempts: 8,
      });
    });

    it('waits at least a minute after a 429 and honours Retry-After up to twice the scheduled delay', async () => {
      await open([{ id: 'app', url: receiver.url, secrets: [oldSecret] }]);
      let retryAfter = '120';
      receiver.behaviour = (_r, res) => void res.writeHead(429, { 'retry-after': retryAfter }).end();
      const event = await t!.engine.publish({ type: 'x.y', payload: {} });
      const { id } = await onlyDelivery(event.id);
      let start = clock.now();
      let outcome = (await attempt(id)) as { retryAt: number };
      // Scheduled 5 s → raised to the 60 s overload minimum → Retry-After 120 s is within 2 × 60 s.
      expect(outcome.retryAt - start).toBe(120 * SECOND);
      clock.set(outcome.retryAt);
      retryAfter = String(24 * 3600);
      start = clock.now();
      outcome = (await attempt(id)) as { retryAt: number };
      // Scheduled 5 min ±20% → a day of Retry-After is clamped to twice that.
      expect(outcome.retryAt - start).toBeGreaterThanOrEqual(2 * 4 * MINUTE);
      expect(outcome.retryAt - start).toBeLessThanOrEqual(2 * 6 * MINUTE);
      clock.set(outcome.retryAt);
      retryAfter = '1';
      start = clock.now();
      outcome = (await attempt(id)) as { retryAt: number };
      // A shorter Retry-After does not shorten the schedule (30 min ±20%).
      expect(outcome.retryAt - start).toBeGreaterThanOrEqual(24 * MINUTE);
    });

    it('treats a redirect as a failure and never follows it', async () => {
      await open([{ id: 'app', url: receiver.url, secrets: [oldSecret] }]);
      receiver.behaviour = (_r, res) =>
        void res.writeHead(302, { location: 'http://169.254.169.254/latest' }).end();
      const event = await t!.engine.publish({ type: 'x.y', payload: {} });
      const { id } = await onlyDelivery(event.id);
      expect(await attempt(id)).toMatchObject({ retryAt: expect.any(Number) });
      expect(receiver.received).toHaveLength(1);
      const [a] = await t!.engine.delivery.attempts(id);
      expect(a).toMatchObject({ statusCode: 302, errorCode: 'HTTP_REDIRECT', outcome: 'failed' });
    });

    it('disables the destination on 410 Gone and records later deliveries as failed', async () => {
      await open([{ id: 'app', url: receiver.url, secrets: [oldSecret] }]);
      receiver.behaviour = (_r, res) => void res.writeHead(410).end('gone');
      const event = await t!.engine.publish({ type: 'x.y', payload: {} });
      expect(await attempt((await onlyDelivery(event.id)).id)).toBeUndefined();
      expect(await t!.engine.delivery.destinations.get('app')).toMatchObject({
        status: 'disabled',
        disabledReason: 'receiver answered 410 Gone',
      });
      expect(await operationalEvents('destination.disabled')).toHaveLength(1);
      const later = await t!.engine.publish({ type: 'x.y', payload: {} });
      expect(await onlyDelivery(later.id)).toMatchObject({
        status: 'failed',
        lastError: 'destination disabled',
      });
      expect(receiver.received).toHaveLength(1);
    });

    it('logs failed attempts, dead letters and disabled destinations at warn, with delivery, destination, status and code', async () => {
      await open([{ id: 'app', url: receiver.url, secrets: [oldSecret] }], { retrySchedule: ['1m'] });
      const warnings = () =>
        t!.logs.lines
          .map((line) => JSON.parse(line) as Record<string, unknown>)
          .filter((entry) => entry.level === 40 && String(entry.msg).match(/delivery|destination disabled/));
      receiver.behaviour = (_r, res) => void res.writeHead(503).end();
      const event = await t!.engine.publish({ type: 'x.y', payload: {} });
      const { id } = await onlyDelivery(event.id);
      const first = (await attempt(id)) as { retryAt: number };
      expect(warnings()).toEqual([
        expect.objectContaining({
          msg: 'delivery attempt failed, will retry',
          deliveryId: id,
          destination: 'app',
          attempt: 1,
          status: 503,
          errorCode: 'HTTP_SERVER_ERROR',
          nextAttemptAt: new Date(first.retryAt).toISOString(),
        }),
      ]);
      clock.set(first.retryAt);
      expect(await attempt(id)).toBeUndefined();
      expect(warnings()[1]).toMatchObject({
        msg: 'delivery attempt failed, dead-lettered (no attempts left)',
        deliveryId: id,
        destination: 'app',
        attempt: 2,
        status: 503,
        errorCode: 'HTTP_SERVER_ERROR',
      });
      receiver.behaviour = (_r, res) => void res.writeHead(410).end('gone');
      const gone = await t!.engine.publish({ type: 'x.y', payload: {} });
      const goneId = (await onlyDelivery(gone.id)).id;
      await attempt(goneId);
      expect(warnings().slice(2)).toEqual([
        expect.objectContaining({
          msg: 'delivery attempt failed, dead-lettered (no attempts left)',
          deliveryId: goneId,
          status: 410,
          errorCode: 'HTTP_CLIENT_ERROR',
        }),
        expect.objectContaining({
          msg: 'destination disabled',
          destination: 'app',
          reason: 'receiver answered 410 Gone',
          status: 410,
          errorCode: 'HTTP_CLIENT_ERROR',
        }),
      ]);
    });

    it('disables a destination that has failed continuously for the disable period, and a success clears the clock', async () => {
      await open([{ id: 'app', url: receiver.url, secrets: [oldSecret] }], {
        retrySchedule: ['1h'],
        disableAfter: '5d',
      });
      receiver.behaviour = (_r, res) => void res.writeHead(500).end();
      const runToExhaustion = async () => {
        const e = await t!.engine.publish({ type: 'x.y', payload: {} });
        const { id } = await onlyDelivery(e.id);
        const first = (await attempt(id)) as { retryAt: number };
        clock.set(first.retryAt);
        expect(await attempt(id)).toBeUndefined();
      };
      await runToExhaustion();
      expect((await t!.engine.delivery.destinations.get('app'))?.status).toBe('enabled');
      // A success in between resets the failure clock.
      await clock.advance(3 * DAY);
      receiver.behaviour = (_r, res) => void res.writeHead(200).end();
      const ok = await t!.engine.publish({ type: 'x.y', payload: {} });
      await attempt((await onlyDelivery(ok.id)).id);
      expect((await t!.engine.delivery.destinations.get('app'))?.failingSince).toBeNull();
      expect(await operationalEvents('destination.recovered')).toHaveLength(1);
      receiver.behaviour = (_r, res) => void res.writeHead(500).end();
      await runToExhaustion();
      await clock.advance(4 * DAY);
      await runToExhaustion();
      expect((await t!.engine.delivery.destinations.get('app'))?.status).toBe('enabled');
      await clock.advance(1 * DAY);
      await runToExhaustion();
      expect(await t!.engine.delivery.destinations.get('app')).toMatchObject({
        status: 'disabled',
        disabledReason: expect.stringMatching(/^failing continuously since /),
      });
    });

    it('replays one delivery (trigger manual) and recovers every failed one of a destination since a time', async () => {
      await open([{ id: 'app', url: receiver.url, secrets: [oldSecret] }], { retrySchedule: [] });
      receiver.behaviour = (_r, res) => void res.writeHead(500).end();
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const e = await t!.engine.publish({ type: 'x.y', payload: { i } });
        const { id } = await onlyDelivery(e.id);
        expect(await attempt(id)).toBeUndefined();
        ids.push(id);
      }
      expect(
        (await t!.engine.delivery.list({ destinationId: 'app', status: 'failed', limit: 10 })).length,
      ).toBe(5);
      receiver.behaviour = (_r, res) => void res.writeHead(204).end();
      const replayed = await t!.engine.delivery.replay(ids[0]!);
      expect(replayed).toMatchObject({ status: 'pending', manual: true });
      expect(await attempt(ids[0]!)).toBeUndefined();
      const log = await t!.engine.delivery.attempts(ids[0]!);
      expect(log.map((a) => [a.attempt, a.trigger, a.outcome])).toEqual([
        [1, 'scheduled', 'failed'],
        [2, 'manual', 'succeeded'],
      ]);
      const progress: [number, number][] = [];
      const { replayed: n } = await t!.engine.delivery.recover('app', {
        since: clock.now() - HOUR,
        onProgress: (done, total) => progress.push([done, total]),
      });
      expect(n).toBe(4);
      expect(progress.at(-1)).toEqual([4, 4]);
      for (const id of ids.slice(1)) expect(await attempt(id)).toBeUndefined();
      expect(
        (await t!.engine.delivery.list({ destinationId: 'app', status: 'succeeded', limit: 10 })).length,
      ).toBe(5);
      await expect(t!.engine.delivery.recover('app', { since: clock.now() - 15 * DAY })).rejects.toThrow(
        /14 days/,
      );
      await expect(t!.engine.delivery.recover('nope', { since: clock.now() })).rejects.toThrow(
        /no destination/,
      );
    });

    it('delivers to in-process handlers with the same retries and replay', async () => {
      await open([]);
      const seen: unknown[] = [];
      let fail = true;
      await t!.engine.on('shop.order.*', async (event, ctx) => {
        seen.push([event.type, event.payload, ctx.attempt]);
        if (fail) throw new Error('database is down');
      });
      const event = await t!.engine.publish({ source: 'shop', type: 'order.paid', payload: { n: 1 } });
      await t!.engine.publish({ source: 'shop', type: 'refund.issued', payload: {} });
      const [delivery] = await t!.engine.delivery.list({ eventId: event.id, limit: 5 });
      const outcome = (await attempt(delivery!.id)) as { retryAt: number; error: string };
      expect(outcome.error).toBe('database is down');
      const [failed] = await t!.engine.delivery.attempts(delivery!.id);
      expect(failed).toMatchObject({ errorCode: 'HANDLER_ERROR', errorMessage: 'database is down' });
      fail = false;
      clock.set(outcome.retryAt);
      expect(await attempt(delivery!.id)).toBeUndefined();
      expect(seen).toEqual([
        ['order.paid', { n: 1 }, 1],
        ['order.paid', { n: 1 }, 2],
      ]);
    });

    it("ends a handler's attempt at its timeout, even when it ignores its signal, and on shutdown without blame", async () => {
      await open([]);
      const signals: AbortSignal[] = [];
      await t!.engine.on(
        'shop.slow.*',
        (_event, ctx) => {
          signals.push(ctx.signal);
          return new Promise(() => {}); // never settles, never looks at its signal
        },
        { id: 'slow', timeoutMs: 50 },
      );
      const event = await t!.engine.publish({ source: 'shop', type: 'slow.job', payload: {} });
      const [delivery] = await t!.engine.delivery.list({ eventId: event.id, limit: 5 });
      const outcome = (await attempt(delivery!.id)) as { retryAt: number; error: string };
      expect(outcome.error).toBe('handler did not finish within 50 ms');
      expect(signals[0]?.aborted).toBe(true);
      const [timedOut] = await t!.engine.delivery.attempts(delivery!.id);
      expect(timedOut).toMatchObject({ errorCode: 'TIMEOUT', outcome: 'failed' });

      // Shutting down mid-attempt: deferred, not recorded against the handler.
      clock.set(outcome.retryAt);
      const shutdown = new AbortController();
      const running = t!.engine.delivery.attempt(delivery!.id, shutdown.signal);
      while (signals.length < 2) await new Promise((r) => setTimeout(r, 1));
      shutdown.abort();
      expect(await running).toMatchObject({ deferred: true, error: 'interrupted by shutdown' });
      expect(signals[1]?.aborted).toBe(true);
      expect(await t!.engine.delivery.attempts(delivery!.id)).toHaveLength(1);
    });

    it('rejects destination settings it cannot honour with a message naming the destination', async () => {
      const secrets = [oldSecret];
      await expect(open([{ id: 'bad', url: 'ftp://example.com/x', secrets }])).rejects.toThrow(
        /destination "bad": url must be http\(s\)/,
      );
      await expect(open([{ id: 'bad', url: receiver.url, events: ['gh.pu sh'], secrets }])).rejects.toThrow(
        /destination "bad": event filter/,
      );
      await expect(
        open([{ id: 'bad', url: receiver.url, headers: { 'Webhook-Signature': 'x' }, secrets }]),
      ).rejects.toThrow(/cannot be overridden/);
      await expect(open([{ id: 'bad', url: receiver.url }])).rejects.toThrow(
        /destinations\[0\]\.secrets: destination "bad" needs at least one signing secret/,
      );
      t = undefined;
    });
  });
}
