import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { MemoryRateLimitStore } from '../../src/resilience/rate-limit-store.js';
import type { ChaosUpstream, FakeClock } from '../../src/testing/index.js';
import { chaosClients } from './chaos-clients.js';
import { drive, rejection } from './helpers.js';

let upstream: ChaosUpstream;
let clock: FakeClock;
const { client } = chaosClients((u, c) => {
  upstream = u;
  clock = c;
});

describe('rate limits scoped to some calls', () => {
  it('counts a scoped limit only for the calls it names', async () => {
    const store = new MemoryRateLimitStore();
    const c = client({
      rateLimit: [
        { name: 'all', limit: 100, windowMs: 10_000, store },
        {
          name: 'search',
          limit: 1,
          windowMs: 1000,
          safetyMarginMs: 0,
          store,
          only: { method: 'post', path: /\/search$/ },
        },
      ],
    });
    await c.request({ method: 'POST', path: '/crm/v3/objects/contacts/search', body: {} });
    // Not a search: goes at once although the search slot is spent.
    await c.request({ path: '/crm/v3/objects/contacts' });
    await c.request({ method: 'POST', path: '/crm/v3/objects/contacts/batch/read', body: {} });
    const second = c.request({ method: 'POST', path: '/crm/v3/objects/deals/search', body: {} });
    const started = clock.now();
    await drive(clock, second);
    expect(clock.now() - started).toBe(1000);
    expect(upstream.stats.requests).toBe(4);
  });

  it('counts a limit for each of several methods (writes apart from reads)', async () => {
    const store = new MemoryRateLimitStore();
    const c = client({
      rateLimit: [
        {
          name: 'writes',
          limit: 1,
          windowMs: 1000,
          safetyMarginMs: 0,
          store,
          only: { method: ['post', 'DELETE'] },
        },
      ],
    });
    await c.request({ method: 'POST', path: '/v1/customers', body: {} });
    await c.request({ path: '/v1/customers' });
    const started = clock.now();
    await drive(clock, c.request({ method: 'DELETE', path: '/v1/customers/cus_1' }));
    expect(clock.now() - started).toBe(1000);
    expect(() => client({ rateLimit: { limit: 1, windowMs: 1000, only: { method: [] } } })).toThrow(
      /rateLimit\.only\.method must be an HTTP method or a non-empty list of them/,
    );
  });

  it('refuses a scope that is not a method and a RegExp, naming the option', () => {
    expect(() =>
      client({ rateLimit: { limit: 1, windowMs: 1000, only: { path: '/search' as never } } }),
    ).toThrow(/rateLimit\.only\.path must be a RegExp/);
    expect(() => client({ rateLimit: { limit: 1, windowMs: 1000, only: { verb: 'GET' } as never } })).toThrow(
      /rateLimit\.only\.verb/,
    );
  });
});

describe("a provider's error reader", () => {
  it("puts the provider's words, code and details on the error", async () => {
    upstream.script([
      {
        status: 409,
        body: {
          status: 'error',
          message: 'Contact already exists. Existing ID: 501',
          category: 'CONFLICT',
          correlationId: 'c-1',
        },
      },
    ]);
    const c = client({
      readError: ({ body }) => {
        const parsed = JSON.parse(body) as { message: string; category: string; correlationId: string };
        return {
          message: parsed.message,
          code: parsed.category,
          details: { correlationId: parsed.correlationId },
        };
      },
    });
    const error = await rejection(c.request({ method: 'POST', path: '/crm/v3/objects/contacts', body: {} }));
    expect(error).toMatchObject({
      code: ErrorCode.HTTP_CLIENT_ERROR,
      status: 409,
      message: expect.stringMatching(/answered 409: Contact already exists\. Existing ID: 501$/),
      classification: 'permanent',
      data: { upstreamCode: 'CONFLICT', upstream: { correlationId: 'c-1' } },
    });
  });

  it('decides the classification and the wait when the body says so', async () => {
    upstream.script([
      { status: 429, body: { policyName: 'DAILY' } },
      { status: 429, body: { policyName: 'TEN_SECONDLY_ROLLING' } },
      { status: 200 },
    ]);
    const c = client({
      readError: ({ status, body }) => {
        if (status !== 429) return undefined;
        const { policyName } = JSON.parse(body) as { policyName: string };
        return policyName === 'DAILY'
          ? { classification: 'permanent', retryAfterMs: 3_600_000 }
          : { retryAfterMs: 10_000 };
      },
    });
    const daily = await rejection(c.request({ path: '/a' }));
    expect(daily).toMatchObject({ code: ErrorCode.RATE_LIMITED, retryAfterMs: 3_600_000 });
    expect(upstream.stats.requests).toBe(1);
    const started = clock.now();
    await drive(clock, c.request({ path: '/b' }));
    expect(clock.now() - started).toBe(10_000);
  });

  it('leaves the answer to the status when the reader throws', async () => {
    upstream.script([{ status: 503, body: 'not json' }, { status: 200 }]);
    const c = client({ readError: ({ body }) => JSON.parse(body) });
    const res = await drive(clock, c.request({ path: '/x' }));
    expect(res.status).toBe(200);
    expect(res.attempts).toBe(2);
  });
});
