import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import type { Database } from '../../src/store/database.js';
import { FakeClock, flushMicrotasks } from '../../src/testing/fake-clock.js';
import { authorizationFor, type ConnectionState } from '../../src/vault/index.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';
import { openTestVault, type TestVault } from '../helpers/vault.js';

/** A token endpoint whose answers the test scripts; it counts the grants it received. */
class TokenEndpoint {
  requests: URLSearchParams[] = [];
  status = 200;
  next = 0;
  rotate = true;
  expiresIn: number | undefined = 3600;
  /** While set, answers wait for it (a slow provider the test releases by hand). */
  hold: Promise<void> | undefined;
  private server!: Server;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', async () => {
        await this.hold;
        const params = new URLSearchParams(body);
        this.requests.push(params);
        if (this.status !== 200) {
          res.writeHead(this.status, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify(
              this.status === 400
                ? // Some servers echo the refused token in the description.
                  {
                    error: 'invalid_grant',
                    error_description: `refresh token ${params.get('refresh_token')} is expired`,
                  }
                : { error: 'temporarily_unavailable' },
            ),
          );
          return;
        }
        const n = ++this.next;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            access_token: `access-${n}`,
            token_type: 'bearer',
            ...(this.expiresIn !== undefined && { expires_in: this.expiresIn }),
            ...(this.rotate &&
              params.get('grant_type') === 'refresh_token' && { refresh_token: `refresh-${n}` }),
          }),
        );
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/token`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/** Runs `promise` to completion while moving the fake clock, for code that sleeps on it. */
async function drive<T>(clock: FakeClock, promise: Promise<T>, stepMs = 100, realMs = 20_000): Promise<T> {
  let settled = false;
  const result = promise.finally(() => {
    settled = true;
  });
  const until = Date.now() + realMs;
  while (!settled && Date.now() < until) {
    await flushMicrotasks();
    if (settled) break;
    // Time moves only while the code under test sleeps on the clock: advancing it while a store query is
    // in flight would let the fake time race past deadlines a loaded machine's slow query never reached.
    if (clock.pending > 0) await clock.advance(stepMs);
    else await new Promise((r) => setTimeout(r, 1));
  }
  return result;
}

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`token refresh manager on ${dialect.name}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    let endpoint: TokenEndpoint;
    let clock: FakeClock;
    let t: TestVault;

    beforeAll(async () => {
      ({ database, cleanup } = await migratedDatabase(dialect));
      endpoint = new TokenEndpoint();
      await endpoint.start();
    });
    afterAll(async () => {
      await endpoint?.stop();
      await cleanup?.();
    });
    beforeEach(async () => {
      await database.db.deleteFrom('connections').execute();
      await database.db.deleteFrom('encryption_keys').execute();
      endpoint.requests = [];
      endpoint.next = 0;
      endpoint.status = 200;
      endpoint.rotate = true;
      endpoint.expiresIn = 3600;
      endpoint.hold = undefined;
      clock = new FakeClock();
      t = await openTestVault(database, {
        clock,
        settings: { refreshSkewMs: 60_000, lockTimeoutMs: 30_000 },
      });
    });

    const clientCredentials = (id = 'svc') =>
      t.connections.create({
        id,
        auth: {
          scheme: 'oauth2-client-credentials',
          tokenUrl: endpoint.url,
          clientId: 'client',
          clientSecret: 'client-secret-value',
          clientAuth: 'client_secret_post',
        },
      });

    const imported = (refreshToken = 'refresh-0') =>
      t.connections.create({
        id: 'crm',
        auth: {
          scheme: 'oauth2-authorization-code',
          tokenUrl: endpoint.url,
          authorizationUrl: 'https://auth.example.com/authorize',
          clientId: 'client',
          clientSecret: 'client-secret-value',
          clientAuth: 'client_secret_post',
          refreshToken,
        },
      });

    it('a hundred concurrent callers share one grant', async () => {
      await clientCredentials();
      const states = await Promise.all(Array.from({ length: 100 }, () => t.refresh.current('svc')));
      expect(endpoint.requests).toHaveLength(1);
      expect(endpoint.requests[0]!.get('grant_type')).toBe('client_credentials');
      expect(new Set(states.map((s) => s.credentials?.accessToken))).toEqual(new Set(['access-1']));
      expect(t.refresh.grants).toBe(1);
    });

    it('a caller that gives up does not fail the others sharing its refresh', async () => {
      await clientCredentials();
      let release!: () => void;
      endpoint.hold = new Promise((r) => {
        release = r;
      });
      const impatient = new AbortController();
      const first = t.refresh.current('svc', impatient.signal);
      const others = Array.from({ length: 5 }, () => t.refresh.current('svc'));
      await flushMicrotasks();
      impatient.abort();
      await expect(first).rejects.toMatchObject({ code: ErrorCode.ABORTED });
      release();
      const states = await Promise.all(others);
      expect(states.map((s) => s.credentials?.accessToken)).toEqual(Array(5).fill('access-1'));
      expect(endpoint.requests).toHaveLength(1);
    });

    it('refreshes an imported refresh token before first use and persists the rotated one', async () => {
      await imported();
      const state = await t.refresh.current('crm');
      expect(endpoint.requests.map((r) => r.get('refresh_token'))).toEqual(['refresh-0']);
      expect(state.credentials).toMatchObject({ accessToken: 'access-1', refreshToken: 'refresh-1' });
      expect((await t.connections.load('crm')).credentials?.refreshToken).toBe('refresh-1');
      // A provider that does not rotate: the current refresh token is kept.
      endpoint.rotate = false;
      await clock.advance(3600_000);
      const next = await t.refresh.current('crm');
      expect(endpoint.requests.map((r) => r.get('refresh_token'))).toEqual(['refresh-0', 'refresh-1']);
      expect(next.credentials).toMatchObject({ accessToken: 'access-2', refreshToken: 'refresh-1' });
    });

    it('while another process holds the lock: uses the still-valid token, or waits and reads the new one', async () => {
      await clientCredentials();
      const first = await t.refresh.current('svc');
      // Inside the skew window, with another process refreshing this version.
      await clock.advance(3600_000 - 30_000);
      const lockUntil = clock.now() + 30_000;
      await database.db
        .updateTable('connections')
        .set({ refresh_lock: 'other-process', refresh_lock_until: lockUntil })
        .where('id', '=', 'svc')
        .execute();
      const early = await t.refresh.current('svc');
      expect(early.credentials?.accessToken).toBe(first.credentials?.accessToken);
      expect(endpoint.requests).toHaveLength(1);
      // Now the token has expired: callers wait, and take the other process's result when it lands.
      await clock.advance(30_000);
      await database.db
        .updateTable('connections')
        .set({ refresh_lock_until: clock.now() + 30_000 })
        .where('id', '=', 'svc')
        .execute();
      const waiting = t.refresh.current('svc');
      await flushMicrotasks();
      await clock.advance(200);
      const other = await t.connections.load('svc');
      await t.connections.saveTokens(other, {
        accessToken: 'from-other-process',
        tokenType: 'bearer',
        expiresAt: clock.now() + 3600_000,
      });
      const waited = await drive(clock, waiting);
      expect(waited.credentials?.accessToken).toBe('from-other-process');
      expect(endpoint.requests).toHaveLength(1);
    });

    it('takes over a lock whose holder died once the lock expires', async () => {
      await clientCredentials();
      await t.refresh.current('svc');
      await clock.advance(3600_000);
      await database.db
        .updateTable('connections')
        .set({ refresh_lock: 'dead-process', refresh_lock_until: clock.now() + 30_000 })
        .where('id', '=', 'svc')
        .execute();
      const started = clock.now();
      const state = await drive(clock, t.refresh.current('svc'), 1000);
      expect(clock.now() - started).toBeGreaterThanOrEqual(30_000);
      expect(state.credentials?.accessToken).toBe('access-2');
      const row = await database.db
        .selectFrom('connections')
        .selectAll()
        .where('id', '=', 'svc')
        .executeTakeFirstOrThrow();
      expect(row.refresh_lock).toBeNull();
    });

    it('rides out a failing token endpoint while the token lasts, then reports error, then recovers', async () => {
      await clientCredentials();
      await t.refresh.current('svc');
      endpoint.status = 503;
      await clock.advance(3600_000 - 30_000);
      const stillGood = await t.refresh.current('svc');
      expect(stillGood.credentials?.accessToken).toBe('access-1');
      expect((await t.connections.require('svc')).status).toBe('active');
      await clock.advance(30_000);
      const error = await t.refresh.current('svc').catch((e) => e);
      expect(error.code).toBe(ErrorCode.OAUTH_ERROR);
      const failing = await t.connections.require('svc');
      expect(failing.status).toBe('error');
      expect(failing.statusReason).toBe(
        'token refresh failed: client credentials grant failed with HTTP 503',
      );
      endpoint.status = 200;
      const back = await t.refresh.current('svc');
      expect(back.credentials?.accessToken).toBe('access-2');
      expect((await t.connections.require('svc')).status).toBe('active');
      expect(t.publisher.types()).toEqual(['connection.recovered']);
    });

    it('a refused refresh token is never repeated in the error, the status reason or the event', async () => {
      await imported('secret-refresh-token-9a8b7c');
      endpoint.status = 400;
      const error = await t.refresh.current('crm').catch((e) => e);
      expect(error.code).toBe(ErrorCode.NEEDS_REAUTH);
      const connection = await t.connections.require('crm');
      expect(connection.status).toBe('needs_reauth');
      const everything = JSON.stringify([
        error.message,
        error.cause?.message,
        connection,
        t.publisher.events,
      ]);
      expect(everything).toContain('invalid_grant');
      expect(everything).toContain('[redacted]');
      expect(everything).not.toContain('secret-refresh-token-9a8b7c');
    });

    it('an access token imported alone is used until it is refused, with nothing to refresh', async () => {
      await t.connections.create({
        id: 'legacy',
        auth: {
          scheme: 'oauth2-authorization-code',
          tokenUrl: endpoint.url,
          authorizationUrl: 'https://auth.example.com/authorize',
          clientId: 'client',
          clientSecret: 's3cret-value',
          accessToken: 'long-lived-token',
        },
      });
      const provider = await t.resolver.authProvider('legacy');
      const got = await provider.authorize({
        method: 'GET',
        url: new URL('https://api.example.com'),
        headers: {},
      });
      expect(got.headers).toEqual({ authorization: 'Bearer long-lived-token' });
      expect(await provider.onUnauthorized()).toBe(false);
      expect(endpoint.requests).toHaveLength(0);
    });

    it('the resolver refuses an unknown connection', async () => {
      await expect(t.resolver.authProvider('nope')).rejects.toThrow('no connection nope');
    });
  });
}

describe('authorization for each scheme', () => {
  const state = (scheme: string, settings: Record<string, unknown>, secrets: Record<string, string>) =>
    ({
      connection: { id: 'c', scheme, settings: { scheme, ...settings } },
      secrets,
      credentials: undefined,
    }) as unknown as ConnectionState;

  it('puts each secret where its scheme says', () => {
    expect(authorizationFor(state('bearer', {}, { token: 't1' }))).toEqual({
      headers: { authorization: 'Bearer t1' },
    });
    expect(authorizationFor(state('bearer', { header: 'X-Token' }, { token: 't1' }))).toEqual({
      headers: { 'x-token': 't1' },
    });
    expect(authorizationFor(state('bearer', { prefix: 'token ' }, { token: 't1' }))).toEqual({
      headers: { authorization: 'token t1' },
    });
    expect(authorizationFor(state('api-key', {}, { key: 'k1' }))).toEqual({ headers: { 'x-api-key': 'k1' } });
    expect(authorizationFor(state('api-key', { in: 'query', name: 'hapikey' }, { key: 'k1' }))).toEqual({
      query: { hapikey: 'k1' },
    });
    expect(authorizationFor(state('basic', { username: 'u' }, { password: 'p' }))).toEqual({
      headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` },
    });
  });
});
