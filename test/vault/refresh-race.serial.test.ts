import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { allDialects, migratedDatabase, type TestDatabase } from '../helpers/databases.js';
import { type OidcServer, startOidcServer } from '../helpers/oidc-server.js';
import { openTestVault, type TestVault } from '../helpers/vault.js';

const FIXTURE = new URL('../fixtures/vault-race-worker.ts', import.meta.url).pathname;
const REDIRECT = 'http://127.0.0.1:9/oauth/callback';
const PROCESSES = 3;
const CONCURRENCY = 50;
/** Access token lifetime at the provider, in s. */
const TTL_S = 5;
// Refresh when 2.5 s are left: on a loaded 2-core CI machine (the chaos tests run beside this one) a
// refresh can start a second late, and the test asserts no token ever lapsed.
const SKEW_MS = 2500;
const DURATION_MS = 9000;

interface WorkerReport {
  calls: number;
  ok: number;
  failed: number;
  unauthorized: number;
  retriedOk: number;
  grants: number;
  distinctTokens: number;
  errors: string[];
}

interface Worker {
  /** Resolves once the process has booted and waits for its start time. */
  ready: Promise<void>;
  start(at: number): void;
  report: Promise<WorkerReport>;
}

function runWorker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let isReady: () => void;
  const ready = new Promise<void>((resolve) => (isReady = resolve));
  child.stdout.on('data', (d) => {
    stdout += d;
    if (/^ready$/m.test(stdout)) isReady();
  });
  child.stderr.on('data', (d) => (stderr += d));
  const report = new Promise<WorkerReport>((resolve, reject) => {
    child.on('exit', (code) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`worker exited with ${code}: ${stderr}`));
      try {
        resolve(JSON.parse(line) as WorkerReport);
      } catch {
        reject(new Error(`worker printed no report: ${stdout} ${stderr}`));
      }
    });
  });
  return {
    // A worker that dies while booting fails the test with its stderr instead of leaving it waiting.
    ready: Promise.race([ready, report.then(() => {})]),
    start: (at) => child.stdin.end(`${at}\n`),
    report,
  };
}

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`token refresh race across processes on ${dialect.name}`, () => {
    let server: OidcServer;
    let database: Database;
    let testDb: TestDatabase;
    let cleanup: () => Promise<void>;
    let t: TestVault;

    beforeAll(async () => {
      server = await startOidcServer({ redirectUris: [REDIRECT], accessTokenTtl: TTL_S });
      ({ database, testDb, cleanup } = await migratedDatabase(dialect));
      t = await openTestVault(database);
    });
    afterAll(async () => {
      await server?.close();
      await cleanup?.();
    });

    it(`${PROCESSES} processes × ${CONCURRENCY} concurrent callers: exactly one refresh per expiry, zero failed calls`, async () => {
      await t.connections.create({
        id: 'crm',
        auth: {
          scheme: 'oauth2-authorization-code',
          issuer: server.issuer,
          clientId: server.clients.web.id,
          clientSecret: server.clients.web.secret,
          scopes: ['openid', 'offline_access'],
          authorizationParams: { prompt: 'consent' },
        },
      });
      const workers = Array.from({ length: PROCESSES }, () =>
        runWorker({
          RACE_DB_URL: testDb.url,
          PATCHBAY_ENCRYPTION_KEY: t.key,
          RACE_RESOURCE_URL: server.resourceUrl,
          RACE_CONNECTION: 'crm',
          RACE_DURATION_MS: String(DURATION_MS),
          RACE_CONCURRENCY: String(CONCURRENCY),
          RACE_SKEW_MS: String(SKEW_MS),
        }),
      );
      // The first token is issued once every process has booted (seconds, on a loaded machine): issued
      // before, it could expire while no process was running yet to refresh it.
      await Promise.all(workers.map((w) => w.ready));
      const started = await t.authorization.start('crm', { redirectUri: REDIRECT });
      await t.authorization.complete(await server.authorize(started.url));
      expect(server.grants.map((g) => g.grantType)).toEqual(['authorization_code']);

      const startAt = Date.now() + 500;
      for (const w of workers) w.start(startAt);
      const reports = await Promise.all(workers.map((w) => w.report));
      const endAt = startAt + DURATION_MS;
      const total = reports.reduce(
        (acc, r) => ({
          calls: acc.calls + r.calls,
          failed: acc.failed + r.failed,
          unauthorized: acc.unauthorized + r.unauthorized,
          grants: acc.grants + r.grants,
        }),
        { calls: 0, failed: 0, unauthorized: 0, grants: 0 },
      );
      console.log(
        `race on ${dialect.name}: ${total.calls} calls, ${total.failed} failed, ${total.unauthorized} 401s, ` +
          `refreshes by process ${reports.map((r) => r.grants).join('/')}`,
      );
      expect(reports.flatMap((r) => r.errors)).toEqual([]);
      expect(total.failed).toBe(0);
      expect(total.calls).toBeGreaterThan(PROCESSES * CONCURRENCY * 10);

      const refreshes = server.grants.filter((g) => g.grantType === 'refresh_token');
      // The provider rejects a reused refresh token (and then revokes the grant): none may have been reused.
      expect(server.grantErrors).toEqual([]);
      // Every refresh the provider saw was made by exactly one of the workers.
      expect(total.grants).toBe(refreshes.length);
      // The token expired several times during the run.
      expect(refreshes.length).toBeGreaterThanOrEqual(Math.floor(DURATION_MS / (TTL_S * 1000)));
      // Exactly one refresh per expiry: each one replaced the previous token inside its refresh window
      // (no earlier than skew + 1 s of exp rounding before its expiry, and before it expired), so no
      // token was refreshed twice and none lapsed.
      const issued = server.grants;
      // On failure, the whole timeline: when each grant was issued and its token expires, in ms from the start.
      const timeline = issued
        .map((g) => `${g.grantType} at ${g.at - startAt} ms, expires at ${g.accessTokenExp! - startAt} ms`)
        .join('; ');
      for (let i = 1; i < issued.length; i++) {
        const previousExp = issued[i - 1]!.accessTokenExp!;
        expect(issued[i]!.at, `grant ${i} came after its predecessor expired: ${timeline}`).toBeLessThan(
          previousExp,
        );
        expect(issued[i]!.at, `grant ${i} came too early: ${timeline}`).toBeGreaterThanOrEqual(
          previousExp - SKEW_MS - 1000 - 250,
        );
      }
      // The last token outlived the run: no expiry went without its refresh.
      expect(issued[issued.length - 1]!.accessTokenExp!).toBeGreaterThan(endAt - 500);
      const row = await database.db
        .selectFrom('connections')
        .select(['credential_version', 'status', 'refresh_lock'])
        .where('id', '=', 'crm')
        .executeTakeFirstOrThrow();
      expect(Number(row.credential_version)).toBe(1 + refreshes.length);
      expect(row.status).toBe('active');
      expect(row.refresh_lock).toBeNull();
      expect(server.resourceCalls.unauthorized).toBe(total.unauthorized);
    }, 60_000);
  });
}
