import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/logger.js';
import { type AuthProvider, type ConnectionAuthResolver, createHttpClient } from '../../src/http/index.js';
import { type ChaosUpstream, FakeClock, startChaosUpstream } from '../../src/testing/index.js';
import { drive, rejection } from './helpers.js';

let upstream: ChaosUpstream;
let clock: FakeClock;

beforeEach(async () => {
  upstream = await startChaosUpstream();
  clock = new FakeClock();
});
afterEach(() => upstream.close());

/** A provider whose token changes on each refresh; counts refreshes. */
function rotatingToken(prefix = 'tok') {
  let version = 1;
  const provider: AuthProvider & { refreshes: number } = {
    refreshes: 0,
    async authorize() {
      return { headers: { authorization: `Bearer ${prefix}-${version}` } };
    },
    async onUnauthorized() {
      provider.refreshes++;
      version++;
      return true;
    },
  };
  return provider;
}

describe('auth', () => {
  it('on a 401 refreshes the credentials once and replays the call once with the new ones', async () => {
    upstream.setFallback((req) => (req.headers.authorization === 'Bearer tok-2' ? {} : { status: 401 }));
    const auth = rotatingToken();
    const client = createHttpClient({ baseUrl: upstream.url, allowInsecureHttp: true, auth });
    const res = await client.request({ path: '/me' });
    expect(res.status).toBe(200);
    expect(auth.refreshes).toBe(1);
    expect(upstream.requests.map((r) => r.headers.authorization)).toEqual(['Bearer tok-1', 'Bearer tok-2']);
    await client.close();
  });

  it('a second 401 is final: one refresh, two requests, HTTP_CLIENT_ERROR 401', async () => {
    upstream.setFallback({ status: 401 });
    const auth = rotatingToken();
    const client = createHttpClient({ baseUrl: upstream.url, allowInsecureHttp: true, auth });
    const error = await rejection(client.request({ path: '/me' }));
    expect(error.code).toBe(ErrorCode.HTTP_CLIENT_ERROR);
    expect(error.status).toBe(401);
    expect(auth.refreshes).toBe(1);
    expect(upstream.stats.requests).toBe(2);
    await client.close();
  });

  it('takes credentials from a connection resolver (the vault) and resolves the connection once', async () => {
    let resolved = 0;
    const connections: ConnectionAuthResolver = {
      async authProvider(id) {
        resolved++;
        expect(id).toBe('crm');
        return { authorize: async () => ({ query: { hapikey: 'k-123456' } }) };
      },
    };
    const client = createHttpClient({
      baseUrl: upstream.url,
      allowInsecureHttp: true,
      connection: 'crm',
      connections,
    });
    await client.request({ path: '/a' });
    await client.request({ path: '/b' });
    expect(resolved).toBe(1);
    expect(upstream.requests[1]!.url).toBe('/b?hapikey=k-123456');
    expect(client.name).toBe('crm');
    await client.close();
  });
});

describe('no secret in any log line or error', () => {
  it('keeps the Authorization header, bearer token and api-key query parameters out of logs and errors', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'trace',
      destination: new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const token = 'sk_live_BEARER_abcdef123456';
    const apiKey = 'APIKEY_0987654321';
    const userToken = 'ACCESS_TOKEN_qwerty7890';
    const plainKey = 'PLAINKEY_55555555';
    // The upstream echoes everything it received — URL and headers — in its bodies, as some do in errors.
    const echo = (status: number) => (req: { url: string; headers: Record<string, unknown> }) => ({
      status,
      body: { url: req.url, headers: req.headers, message: `bad token ${String(req.headers.authorization)}` },
    });
    const auth: AuthProvider = {
      authorize: async () => ({ headers: { authorization: `Bearer ${token}` }, query: { api_key: apiKey } }),
      onUnauthorized: async () => true,
    };
    const client = createHttpClient({
      baseUrl: upstream.url,
      allowInsecureHttp: true,
      auth,
      logger,
      clock,
      timeoutMs: 600_000,
      retry: { maxAttempts: 2, budget: false },
    });
    const errors: unknown[] = [];
    const call = async (status: number | 'reset', query: Record<string, string>) => {
      upstream.setFallback(status === 'reset' ? { reset: true } : echo(status));
      try {
        await drive(clock, client.request({ path: '/x', query }));
      } catch (error) {
        errors.push(error);
      }
    };
    await call(200, { access_token: userToken });
    await call(401, { apikey: plainKey });
    await call(404, { access_token: userToken, apikey: plainKey });
    await call(500, { apikey: plainKey });
    await call('reset', { access_token: userToken });
    await client.close();

    expect(errors.map((e) => (e as { code: string }).code)).toEqual([
      ErrorCode.HTTP_CLIENT_ERROR,
      ErrorCode.HTTP_CLIENT_ERROR,
      ErrorCode.RETRIES_EXHAUSTED,
      ErrorCode.RETRIES_EXHAUSTED,
    ]);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    const surfaces = [
      ...lines,
      ...errors.flatMap((e) => {
        const err = e as Error & { body?: string; headers?: unknown; cause?: unknown };
        return [
          err.message,
          String(err.body),
          String(JSON.stringify(err.headers)),
          JSON.stringify(err),
          String(err.stack),
        ];
      }),
    ];
    for (const secret of [token, apiKey, userToken, plainKey]) {
      for (const surface of surfaces) expect(surface).not.toContain(secret);
    }
    expect(lines.join('\n')).toMatch(/api_key=(%5B|\[)redacted/);
  });
});
