import OpenAI, { type APIError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  goDuration,
  type RunningOpenAIFake,
  startOpenAIFake,
} from '../../../src/connectors/openai/fake/index.js';

const KEY = 'sk-test-0123456789abcdef';
let fake: RunningOpenAIFake;

/** The `openai` SDK unmodified, pointed at the fake with `baseURL`. */
const sdk = (options: { apiKey?: string; maxRetries?: number } = {}) =>
  new OpenAI({ apiKey: options.apiKey ?? KEY, baseURL: fake.baseURL, maxRetries: options.maxRetries ?? 0 });

const control = async <T = unknown>(path: string, body?: unknown): Promise<T> => {
  const response = await fetch(`${fake.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return (await response.json()) as T;
};

const ask = (content: string) => ({
  model: 'gpt-4o-mini',
  messages: [
    { role: 'system' as const, content: 'Be brief.' },
    { role: 'user' as const, content },
  ],
});

beforeEach(async () => {
  fake = await startOpenAIFake();
});
afterEach(async () => {
  await fake.close();
});

describe('OpenAI fake with the openai SDK', () => {
  it('answers chat completions deterministically, with usage and the rate-limit headers', async () => {
    const client = sdk();
    const { data, response } = await client.chat.completions.create(ask('What is a fake?')).withResponse();
    const again = await client.chat.completions.create(ask('What is a fake?'));
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('gpt-4o-mini-2024-07-18');
    expect(data.choices[0]!.message).toMatchObject({ role: 'assistant', refusal: null });
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.choices[0]!.message.content).toBe(again.choices[0]!.message.content);
    expect(data.choices[0]!.message.content).toContain('What is a fake?');
    expect(data.usage!.total_tokens).toBe(data.usage!.prompt_tokens + data.usage!.completion_tokens);
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('500');
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('499');
    expect(response.headers.get('x-ratelimit-reset-requests')).toMatch(/^\d+(\.\d+)?(ms|s)$/);
    expect(response.headers.get('x-request-id')).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it('answers scripted replies and cuts at max_tokens with finish_reason "length"', async () => {
    await control('/_fake/seed', {
      replies: [{ match: 'weather', content: 'Sunny with a chance of tests.' }],
    });
    const client = sdk();
    const full = await client.chat.completions.create(ask('How is the weather?'));
    expect(full.choices[0]!.message.content).toBe('Sunny with a chance of tests.');
    // The fake's tokenizer: "Sunn" "y" " with" — four letters a token at most.
    const cut = await client.chat.completions.create({
      ...ask('How is the weather?'),
      max_completion_tokens: 3,
    });
    expect(cut.choices[0]!.finish_reason).toBe('length');
    expect(cut.usage!.completion_tokens).toBe(3);
    expect(cut.choices[0]!.message.content).toBe('Sunny with');
  });

  it('streams the same answer as server-sent events ending with data: [DONE]', async () => {
    const client = sdk();
    const whole = await client.chat.completions.create(ask('Stream this please'));
    const stream = await client.chat.completions.create({
      ...ask('Stream this please'),
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    const finishes: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.choices[0]) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(finishes.at(-1)).toBe('stop');
    expect(usage).toMatchObject({ completion_tokens: whole.usage!.completion_tokens });
    const raw = await fetch(`${fake.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...ask('raw'), stream: true }),
    });
    expect(raw.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect((await raw.text()).endsWith('data: [DONE]\n\n')).toBe(true);
  });

  it('raises an error event in the middle of a stream', async () => {
    await control('/_fake/seed', {
      replies: [{ match: 'break', content: 'one two three', streamError: true }],
    });
    const stream = await sdk().chat.completions.create({ ...ask('break it'), stream: true });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? '');
      })(),
    ).rejects.toThrow(/server had an error/);
    expect(seen.join('')).toBe('one');
  });

  it('gives deterministic embeddings, as base64 float32 by default (the SDK decodes them) and as floats', async () => {
    const client = sdk();
    const decoded = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['alpha', 'beta'],
    });
    const floats = await client.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['alpha', 'beta'],
      encoding_format: 'float',
    });
    expect(decoded.data).toHaveLength(2);
    expect(decoded.data[0]!.embedding).toHaveLength(1536);
    expect(decoded.data[0]!.embedding).toEqual(floats.data[0]!.embedding);
    expect(decoded.data[0]!.embedding).not.toEqual(decoded.data[1]!.embedding);
    const norm = Math.hypot(...decoded.data[0]!.embedding);
    expect(norm).toBeCloseTo(1, 5);
    const short = await client.embeddings.create({
      model: 'text-embedding-3-large',
      input: 'alpha',
      dimensions: 256,
    });
    expect(short.data[0]!.embedding).toHaveLength(256);
    expect(decoded.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('refuses a bad key with 401, an unknown model with 404 and a missing parameter with 400', async () => {
    const wrongKey = await sdk({ apiKey: 'not-a-key' })
      .chat.completions.create(ask('hi'))
      .catch((e: unknown) => e);
    expect(wrongKey).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((wrongKey as APIError).code).toBe('invalid_api_key');
    const model = await sdk()
      .chat.completions.create({ ...ask('hi'), model: 'gpt-9' })
      .catch((e: unknown) => e);
    expect(model).toBeInstanceOf(OpenAI.NotFoundError);
    expect((model as APIError).code).toBe('model_not_found');
    const missing = await sdk()
      .chat.completions.create({ model: 'gpt-4o-mini' } as never)
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.BadRequestError);
    expect((missing as APIError).param).toBe('messages');
  });

  it('spends the request budget, answers 429 rate_limit_exceeded with retry-after-ms, and refills on its clock', async () => {
    await control('/_fake/seed', { limits: { 'gpt-4o-mini': { rpm: 2, tpm: 100_000 } } });
    const client = sdk();
    await client.chat.completions.create(ask('one'));
    await client.chat.completions.create(ask('two'));
    const limited = (await client.chat.completions.create(ask('three')).catch((e: unknown) => e)) as APIError;
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited.code).toBe('rate_limit_exceeded');
    expect(limited.type).toBe('requests');
    // Two a minute refill one every 30 s, less the few ms the first calls took.
    expect(limited.message).toMatch(/Limit 2, Used 2, Requested 1\. Please try again in (29\.\d+|30)s\./);
    expect(Number(limited.headers!.get('retry-after-ms'))).toBeGreaterThan(29_000);
    expect(Number(limited.headers!.get('retry-after-ms'))).toBeLessThanOrEqual(30_000);
    expect(limited.headers!.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(limited.headers!.get('x-ratelimit-reset-requests')).toMatch(/^(1m0s|59(\.\d+)?s)$/);
    await control('/_fake/clock', { advanceMs: 30_000 });
    await expect(client.chat.completions.create(ask('four'))).resolves.toBeDefined();
  });

  it('charges the prompt plus max_tokens against the token budget', async () => {
    await control('/_fake/seed', { limits: { 'gpt-4o-mini': { rpm: 100, tpm: 1_000 } } });
    const client = sdk();
    const limited = (await client.chat.completions
      .create({ ...ask('hello'), max_tokens: 2_000 })
      .catch((e: unknown) => e)) as APIError;
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect(limited.type).toBe('tokens');
    const { response } = await client.chat.completions
      .create({ ...ask('hello'), max_tokens: 100 })
      .withResponse();
    expect(Number(response.headers.get('x-ratelimit-remaining-tokens'))).toBeLessThanOrEqual(900);
    expect(response.headers.get('x-ratelimit-reset-tokens')).toMatch(/^\d+(\.\d+)?s$/);
  });

  it('answers 429 insufficient_quota, which the SDK retries anyway because it never reads the body', async () => {
    await control('/_fake/seed', { quota: { [KEY]: 0 } });
    const error = (await sdk({ maxRetries: 1 })
      .chat.completions.create(ask('hi'))
      .catch((e: unknown) => e)) as APIError;
    expect(error).toBeInstanceOf(OpenAI.RateLimitError);
    expect(error.code).toBe('insufficient_quota');
    expect(error.type).toBe('insufficient_quota');
    expect(error.headers!.get('retry-after-ms')).toBeNull();
    const stats = await control<{ counters: Record<string, number> }>('/_fake/stats');
    expect(stats.counters['429:insufficient_quota']).toBe(2);
  });

  it('says x-should-retry: true on an overload, which the SDK obeys', async () => {
    await control('/_fake/seed', { overloaded: 1 });
    const answer = await sdk({ maxRetries: 1 }).chat.completions.create(ask('hi'));
    expect(answer.choices).toHaveLength(1);
    const stats = await control<{ counters: Record<string, number> }>('/_fake/stats');
    expect(stats.counters['status:503']).toBe(1);
  });

  it('lists its models', async () => {
    const ids = [];
    for await (const model of sdk().models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining(['gpt-4o-mini', 'text-embedding-3-small']));
  });
});

describe('Go durations (x-ratelimit-reset-*)', () => {
  it.each([
    [12, '12ms'],
    [1000, '1s'],
    [1500, '1.5s'],
    [360_000, '6m0s'],
    [3_723_000, '1h2m3s'],
    [0, '0s'],
  ])('%d ms is %s', (ms, text) => {
    expect(goDuration(ms)).toBe(text);
  });
});
