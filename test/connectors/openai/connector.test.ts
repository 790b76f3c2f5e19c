import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorClients } from '../../../src/connectors/index.js';
import { embed, type RunningOpenAIFake, startOpenAIFake } from '../../../src/connectors/openai/fake/index.js';
import { type OpenAIApi, openaiConnector } from '../../../src/connectors/openai/index.js';
import { ErrorCode } from '../../../src/core/errors.js';
import { MemoryRateLimitStore } from '../../../src/resilience/rate-limit-store.js';
import { FakeClock } from '../../../src/testing/index.js';
import { type TestVault, vaultPerFile } from '../../helpers/vault.js';
import { rejection } from '../../http/helpers.js';

let vault: TestVault;
let fake: RunningOpenAIFake;
let clock: FakeClock;
let clients: ConnectorClients;

const KEY = 'sk-connector-0123456789';
const ask = (content: string, extra: Record<string, unknown> = {}) => ({
  model: 'gpt-4o-mini',
  messages: [{ role: 'user', content }],
  ...extra,
});

async function control<T = unknown>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${fake.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await response.json()) as T;
}
const counters = async () => (await control<{ counters: Record<string, number> }>('/_fake/stats')).counters;

/**
 * Lets real I/O run and moves both clocks — Patchbay's and the fake's — past every wait due within
 * the horizon, so budgets and retries play out in fake time on both sides.
 */
async function drive<T>(promise: Promise<T>, horizonMs = 61_000): Promise<T> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  while (!done) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const next = clock.nextWake;
    if (!done && next !== undefined && next - clock.now() <= horizonMs) {
      await control('/_fake/clock', { advanceMs: Math.max(0, next - clock.now()) });
      await clock.runNext();
    }
  }
  return promise;
}

async function connect(metadata?: Record<string, unknown>, id = 'ai'): Promise<OpenAIApi> {
  await vault.connections.create({
    id,
    provider: 'openai',
    baseUrl: fake.baseURL,
    auth: { scheme: 'bearer', token: KEY },
    ...(metadata && { metadata }),
  });
  return clients.api(id, openaiConnector);
}

vaultPerFile((_, v) => {
  vault = v;
});
beforeEach(async () => {
  fake = await startOpenAIFake();
  clock = new FakeClock(Date.now());
  clients = new ConnectorClients({
    connections: vault.connections,
    auth: vault.resolver,
    rateLimits: new MemoryRateLimitStore(),
    clock,
    http: { timeoutMs: 1_000, retry: { budget: false } },
  });
});
afterEach(async () => {
  await clients.close();
  await fake.close();
  for (const c of await vault.connections.list({ limit: 100 })) await vault.connections.delete(c.id);
});

describe('a connection with provider: openai', () => {
  it('answers chat completions and learns the model budget from the first answer', async () => {
    const api = await connect();
    expect(api.budgets.limitsOf('gpt-4o-mini')).toBeUndefined();
    const answer = await api.chat(ask('What is Patchbay?'));
    expect(answer.choices[0]!.message.content).toContain('What is Patchbay?');
    expect(api.budgets.limitsOf('gpt-4o-mini')).toEqual({ rpm: 500, tpm: 200_000 });
  });

  it('keeps to the request budget where the SDK runs into 429s', async () => {
    await control('/_fake/seed', { limits: { 'gpt-4o-mini': { rpm: 3, tpm: 100_000 } } });
    const sdk = new OpenAI({ apiKey: 'sk-sdk-0123456789', baseURL: fake.baseURL, maxRetries: 0 });
    for (const i of [1, 2, 3]) await sdk.chat.completions.create(ask(`sdk ${i}`) as never);
    await expect(sdk.chat.completions.create(ask('sdk 4') as never)).rejects.toBeInstanceOf(
      OpenAI.RateLimitError,
    );
    const refusedBefore = (await counters())['429:requests'];

    const api = await connect({ limits: { 'gpt-4o-mini': { rpm: 3, tpm: 100_000 } } });
    for (const i of [1, 2, 3]) await api.chat(ask(`call ${i}`));
    const started = clock.now();
    await drive(api.chat(ask('call 4')));
    // Three a minute refill one every 20 s: the fourth waited for it instead of being refused.
    expect(clock.now() - started).toBeGreaterThanOrEqual(20_000);
    expect((await counters())['429:requests']).toBe(refusedBefore);
  });

  it('counts each call at its estimated tokens (prompt plus max_tokens) against the token budget', async () => {
    await control('/_fake/seed', { limits: { 'gpt-4o-mini': { rpm: 100, tpm: 1_000 } } });
    const api = await connect({ limits: { 'gpt-4o-mini': { rpm: 100, tpm: 1_000 } } });
    for (const i of [1, 2]) await api.chat(ask(`tokens ${i}`, { max_tokens: 400 }));
    const started = clock.now();
    await drive(api.chat(ask('tokens 3', { max_tokens: 400 })));
    expect(clock.now() - started).toBeGreaterThan(10_000);
    expect((await counters())['429:tokens']).toBeUndefined();
    const huge = await rejection(api.chat(ask('x', { max_tokens: 5_000 })));
    expect(huge.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(huge.message).toContain("more than gpt-4o-mini's 1000 a minute");
  });

  it('learns a budget it was not told from the answers, and paces by it', async () => {
    await control('/_fake/seed', { limits: { 'gpt-4o-mini': { rpm: 2, tpm: 100_000 } } });
    const api = await connect();
    await api.chat(ask('one'));
    expect(api.budgets.limitsOf('gpt-4o-mini')).toEqual({ rpm: 2, tpm: 100_000 });
    await api.chat(ask('two'));
    const started = clock.now();
    await drive(api.chat(ask('three')));
    expect(clock.now() - started).toBeGreaterThanOrEqual(30_000);
    expect((await counters())['429:requests']).toBeUndefined();
  });

  it('retries a 429 rate_limit_exceeded after the wait it names, but never insufficient_quota', async () => {
    await control('/_fake/seed', { limits: { 'gpt-4o-mini': { rpm: 2, tpm: 100_000 } } });
    const api = await connect();
    await api.chat(ask('first'));
    // Another client of the same key spends the rest: only OpenAI's 429 can tell.
    const other = new OpenAI({ apiKey: KEY, baseURL: fake.baseURL, maxRetries: 0 });
    await other.chat.completions.create(ask('elsewhere') as never);
    const answer = await drive(api.chat(ask('second')));
    expect(answer.object).toBe('chat.completion');
    expect((await counters())['429:requests']).toBe(1);

    await control('/_fake/seed', { quota: { [KEY]: 0 } });
    const requests = (await counters()).requests!;
    const quota = await rejection(drive(api.chat(ask('third'))));
    expect(quota).toMatchObject({ code: ErrorCode.RATE_LIMITED, status: 429 });
    expect((quota.data as { upstreamCode: string }).upstreamCode).toBe('insufficient_quota');
    expect((await counters()).requests).toBe(requests + 1);
  });

  it('retries a 5xx, and obeys x-should-retry: false', async () => {
    const api = await connect();
    await control('/_fake/faults', {
      path: '/v1/chat/completions',
      status: 500,
      body: { error: { message: 'boom', type: 'server_error' } },
    });
    expect((await drive(api.chat(ask('retry me')))).object).toBe('chat.completion');
    await control('/_fake/faults', {
      path: '/v1/chat/completions',
      status: 500,
      headers: { 'x-should-retry': 'false' },
      body: { error: { message: 'do not retry', type: 'server_error' } },
    });
    const requests = (await counters()).requests!;
    const error = await rejection(drive(api.chat(ask('no retry'))));
    expect(error.status).toBe(500);
    expect((await counters()).requests).toBe(requests + 1);
  });

  it('streams the completion through, chunk by chunk, and ends on an error event', async () => {
    const api = await connect();
    const whole = await api.chat(ask('stream me'));
    let text = '';
    for await (const chunk of await api.chatStream(ask('stream me')))
      text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(whole.choices[0]!.message.content);

    await control('/_fake/seed', { replies: [{ match: 'break', content: 'a b c', streamError: true }] });
    const seen: string[] = [];
    const broken = (async () => {
      for await (const chunk of await api.chatStream(ask('break')))
        seen.push(chunk.choices[0]?.delta.content ?? '');
    })();
    await expect(broken).rejects.toThrow(/the stream ended with an error/);
    expect(seen.join('')).toBe('a');
  });

  it('gives a long completion the time it needs: 10 minutes an attempt, whatever the shared default', async () => {
    await vault.connections.create({
      id: 'plain',
      provider: 'custom',
      baseUrl: fake.baseURL,
      auth: { scheme: 'bearer', token: KEY },
    });
    const plain = await clients.client('plain');
    const api = await connect({ limits: { 'gpt-4o-mini': { rpm: 100, tpm: 100_000 } } });
    await control('/_fake/faults', { path: '/v1/chat/completions', holdAnswerMs: 600_000, times: 2 });
    const controller = new AbortController();
    let settled = false;
    const slow = api.chat(ask('think hard'), { signal: controller.signal }).finally(() => (settled = true));
    const shared = plain
      .request({ method: 'POST', path: '/chat/completions', body: ask('think hard') })
      .catch((e) => e);
    while (((await counters()).requests ?? 0) < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    // Past the shared 1 s attempt limit, well short of OpenAI's 10 minutes.
    await clock.advance(5_000);
    expect(await shared).toMatchObject({ code: ErrorCode.TIMEOUT });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    controller.abort();
    await expect(slow).rejects.toMatchObject({ code: ErrorCode.ABORTED });
  });
});

describe('embeddings', () => {
  it('batches many inputs under 2,048 a request and decodes base64 float32', async () => {
    const api = await connect();
    const inputs = Array.from({ length: 5000 }, (_, i) => `item ${i}`);
    const result = await api.embed(inputs, { model: 'text-embedding-3-small', concurrency: 2 });
    expect(result.outcome).toBe('success');
    expect(result.embeddings).toHaveLength(5000);
    expect(result.embeddings[4321]).toEqual(embed('text-embedding-3-small', 'item 4321', 1536));
    const stats = await counters();
    expect(stats['embeddings:text-embedding-3-small']).toBe(3);
    expect(stats['embeddings:inputs']).toBe(5000);
  });

  it('answers the vectors it got and the batches that failed, with a PARTIAL error', async () => {
    const api = await connect();
    await api.embed(['warm up'], { model: 'text-embedding-3-small' });
    await control('/_fake/faults', {
      rules: [
        { path: '/v1/embeddings', times: 1, holdAnswerMs: 0 },
        {
          path: '/v1/embeddings',
          status: 400,
          body: { error: { message: 'bad input', type: 'invalid_request_error' } },
        },
      ],
    });
    const inputs = Array.from({ length: 3000 }, (_, i) => `row ${i}`);
    const result = await api.embed(inputs, { model: 'text-embedding-3-small' });
    expect(result.outcome).toBe('partial');
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]!.inputs).toHaveLength(952);
    expect(result.embeddings.filter(Boolean)).toHaveLength(2048);
    expect(result.error).toMatchObject({ code: ErrorCode.PARTIAL });
  });

  it('refuses an empty input before sending, naming it', async () => {
    const api = await connect();
    const error = await rejection(api.embed(['fine', ''], { model: 'text-embedding-3-small' }));
    expect(error.message).toBe('inputs[1] must be a non-empty string');
  });
});
