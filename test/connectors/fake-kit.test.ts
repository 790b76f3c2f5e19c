import { afterEach, describe, expect, it } from 'vitest';
import {
  type FakeProvider,
  INVALID_JSON,
  type RunningFake,
  startFakeServer,
} from '../../src/connectors/fake-kit/index.js';

/** A provider with one counter, to see the shared control plane act on a provider's state. */
function counterProvider(): FakeProvider & { value: number } {
  const provider = {
    name: 'counter',
    value: 0,
    routes(app: import('fastify').FastifyInstance) {
      app.post('/count', async (request, reply) => {
        if (request.body === INVALID_JSON) return reply.status(400).send({ message: 'bad json' });
        provider.value += (request.body as { by?: number } | undefined)?.by ?? 1;
        return { value: provider.value, raw: request.rawBody?.toString('utf8') ?? null };
      });
    },
    reset() {
      provider.value = 0;
    },
    seed(input: unknown) {
      provider.value = (input as { value: number }).value;
      return { value: provider.value };
    },
    stats: () => ({ value: provider.value }),
  };
  return provider;
}

let fake: RunningFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const post = (path: string, body?: unknown, raw?: string) =>
  fetch(`${fake!.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });

describe('fake kit', () => {
  it('serves the provider on 127.0.0.1 and keeps the raw body', async () => {
    fake = await startFakeServer(counterProvider());
    expect(fake.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const answer = await (await post('/count', undefined, '{ "by": 2 }')).json();
    expect(answer).toEqual({ value: 2, raw: '{ "by": 2 }' });
    expect((await post('/count', undefined, '{nope')).status).toBe(400);
  });

  it('answers injected faults for their count, then lets requests through', async () => {
    fake = await startFakeServer(counterProvider());
    await post('/_fake/faults', { rules: [{ path: '/count', status: 503, body: { busy: true }, times: 2 }] });
    expect((await post('/count')).status).toBe(503);
    expect((await post('/count')).status).toBe(503);
    expect((await post('/count')).status).toBe(200);
    const stats = (await (await fetch(`${fake.url}/_fake/stats`)).json()) as {
      counters: Record<string, number>;
      value: number;
    };
    expect(stats.counters).toMatchObject({ requests: 3, faults: 2, 'status:503': 2, 'status:200': 1 });
    expect(stats.value).toBe(1);
  });

  it('drops the connection for a reset fault', async () => {
    fake = await startFakeServer(counterProvider());
    await post('/_fake/faults', { method: 'POST', path: '/\\/co+unt/', reset: true });
    await expect(post('/count')).rejects.toThrow();
  });

  it('holds the answer back after the provider acted, until the fake closes, for a hold fault', async () => {
    const provider = counterProvider();
    fake = await startFakeServer(provider);
    await post('/_fake/faults', { path: '/count', holdAnswerMs: 60_000 });
    let settled = false;
    const answer = post('/count', { by: 5 }).finally(() => {
      settled = true;
    });
    while (provider.value !== 5) await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    await fake.close();
    fake = undefined;
    expect((await answer).status).toBe(200);
  });

  it('seeds and resets the provider state, faults and counters', async () => {
    const provider = counterProvider();
    fake = await startFakeServer(provider);
    await post('/_fake/seed', { value: 40 });
    await post('/_fake/faults', { path: '/count', status: 500, times: 0 });
    await post('/_fake/reset');
    expect(provider.value).toBe(0);
    expect((await post('/count')).status).toBe(200);
    const faults = (await (await fetch(`${fake.url}/_fake/faults`)).json()) as { rules: unknown[] };
    expect(faults.rules).toEqual([]);
  });

  it('moves its clock and runs what fell due', async () => {
    fake = await startFakeServer(counterProvider());
    const ran: number[] = [];
    const start = fake.clock.now();
    fake.clock.at(start + 3_600_000, () => ran.push(1));
    fake.clock.at(start + 7_200_000, () => ran.push(2));
    const answer = (await (await post('/_fake/clock', { advanceMs: 3_600_000 })).json()) as { now: string };
    expect(Date.parse(answer.now)).toBeGreaterThanOrEqual(start + 3_600_000);
    expect(ran).toEqual([1]);
    expect((await post('/_fake/clock', { advanceMs: -1 })).status).toBe(400);
    expect((await post('/_fake/clock', { now: start + 7_300_000 })).status).toBe(200);
    expect(ran).toEqual([1, 2]);
  });

  it('stops its clock when frozen, moving only when told, and lets it run again when thawed', async () => {
    fake = await startFakeServer(counterProvider());
    await post('/_fake/clock', { freeze: true });
    const frozen = fake.clock.now();
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fake.clock.now()).toBe(frozen);
    await post('/_fake/clock', { advanceMs: 1000 });
    expect(fake.clock.now()).toBe(frozen + 1000);
    await post('/_fake/clock', { freeze: false });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fake.clock.now()).toBeGreaterThan(frozen + 1000);
    expect(fake.clock.now()).toBeLessThan(frozen + 60_000);
  });
});
