import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Engine } from '../../src/engine/index.js';
import { formatKey, generateKey } from '../../src/vault/index.js';
import { allDialects } from '../helpers/databases.js';
import { adminApi, openPeerEngine, openTestEngine, type TestEngine } from '../helpers/engine.js';
import { githubRequest } from '../helpers/github-request.js';

const TOKEN = 'sources-admin-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}` };

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`sources through the admin API on ${dialect.name}`, () => {
    const env = { PATCHBAY_ENCRYPTION_KEY: formatKey(generateKey()) };
    const secret = `gh-secret-${randomBytes(12).toString('hex')}`;
    let t: TestEngine;
    let other: { engine: Engine; app: FastifyInstance };

    const config = {
      server: { adminToken: TOKEN },
      sources: [{ id: 'fixed', verify: { scheme: 'github' as const, secrets: ['fixed-secret'] } }],
    };

    beforeAll(async () => {
      t = await openTestEngine(dialect, config, { env });
      // A second process on the same store and key.
      other = await openPeerEngine(t, config, env);
    });
    afterAll(async () => {
      await other?.app.close();
      await other?.engine.stop();
      await t?.close();
    });

    const api = (...args: Parameters<ReturnType<typeof adminApi>>) => adminApi(t.app, TOKEN)(...args);

    it('creates a source whose secret is sealed, never shown, and that receives here at once and in every process', async () => {
      const created = await api('POST', '/sources', {
        id: 'repo',
        verify: { scheme: 'github', secrets: [secret] },
      });
      expect(created.statusCode).toBe(201);
      expect(created.json()).toMatchObject({
        id: 'repo',
        origin: 'api',
        scheme: 'github',
        secrets: 1,
        url: '/webhooks/repo',
      });
      expect(created.body).not.toContain(secret);

      const here = await t.app.inject({ url: '/webhooks/repo', ...githubRequest(secret, 'd-1') });
      expect(here.statusCode).toBe(200);
      // The other process sees it once its copy is a second old (source-peers.test.ts, on its clock);
      // here it is asked to read now.
      await other.engine.events.sources.refresh();
      const there = await other.app.inject({ url: '/webhooks/repo', ...githubRequest(secret, 'd-2') });
      expect(there.statusCode).toBe(200);
      expect((await t.engine.events.list({ source: 'repo', limit: 10 })).map((e) => e.externalId)).toEqual([
        'd-1',
        'd-2',
      ]);

      const listed = await api('GET', '/sources');
      expect(
        listed
          .json()
          .data.map((s: { id: string }) => s.id)
          .sort(),
      ).toEqual(['fixed', 'repo']);
      expect(listed.body).not.toContain(secret);

      // At rest: ciphertext only.
      const rows = await t.db.db.selectFrom('sources').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain(secret);
      expect(rows[0]!.secrets).toMatch(/^pb1\./);
      if (dialect.name === 'sqlite') {
        const file = t.testDb.url.replace(/^sqlite:(\/\/)?/, '');
        for (const path of [file, `${file}-wal`]) {
          let bytes: Buffer;
          try {
            bytes = readFileSync(path);
          } catch {
            continue;
          }
          expect(bytes.includes(Buffer.from(secret))).toBe(false);
        }
      }
      expect(t.logs.text).not.toContain(secret);
    });

    it('rotates a secret with PATCH: the new one verifies, the old one no longer does', async () => {
      const next = `gh-next-${randomBytes(12).toString('hex')}`;
      const patched = await api('PATCH', '/sources/repo', { verify: { scheme: 'github', secrets: [next] } });
      expect(patched.statusCode).toBe(200);
      expect((await t.app.inject({ url: '/webhooks/repo', ...githubRequest(next, 'd-3') })).statusCode).toBe(
        200,
      );
      expect(
        (await t.app.inject({ url: '/webhooks/repo', ...githubRequest(secret, 'd-4') })).statusCode,
      ).toBe(401);
      // The other process learns of the change within a second (source-peers.test.ts), or when asked.
      await other.engine.events.sources.refresh();
      expect(
        (await other.app.inject({ url: '/webhooks/repo', ...githubRequest(next, 'd-5') })).statusCode,
      ).toBe(200);
    });

    it('refuses bad definitions naming the problem, duplicates, and changes to configured sources', async () => {
      const unknown = await api('POST', '/sources', {
        id: 'x1',
        verify: { scheme: 'githb', secrets: ['s'] },
      });
      expect(unknown.statusCode).toBe(400);
      expect(unknown.json().error.message).toMatch(/verify\.scheme: unknown scheme "githb"/);
      const noSecret = await api('POST', '/sources', { id: 'x2', verify: { scheme: 'stripe' } });
      expect(noSecret.statusCode).toBe(400);
      expect(noSecret.json().error.message).toMatch(/verify\.secrets/);
      const badSecret = await api('POST', '/sources', {
        id: 'x3',
        verify: { scheme: 'standard-webhooks', secrets: ['not-a-whsec'] },
      });
      expect(badSecret.statusCode).toBe(400);
      const tooBig = await api('POST', '/sources', {
        id: 'x4',
        verify: { scheme: 'github', secrets: ['s'] },
        bodyLimit: '1gb',
      });
      expect(tooBig.statusCode).toBe(400);
      expect(tooBig.json().error.message).toMatch(/bodyLimit/);
      expect(
        (await api('POST', '/sources', { id: 'fixed', verify: { scheme: 'github', secrets: ['s'] } }))
          .statusCode,
      ).toBe(409);
      expect((await api('DELETE', '/sources/fixed')).statusCode).toBe(409);
      expect((await api('PATCH', '/sources/fixed', { bodyLimit: '2kb' })).statusCode).toBe(409);
      const malformed = await t.app.inject({
        method: 'POST',
        url: '/api/v1/sources',
        headers: { ...auth, 'content-type': 'application/json' },
        payload: '{"id": "x5", ',
      });
      expect(malformed.statusCode).toBe(400);
      expect(
        (await api('GET', '/sources'))
          .json()
          .data.map((s: { id: string }) => s.id)
          .sort(),
      ).toEqual(['fixed', 'repo']);
    });

    it('deletes a source: it answers 404 here at once and in other processes within a second', async () => {
      expect((await api('DELETE', '/sources/repo')).statusCode).toBe(204);
      expect((await api('DELETE', '/sources/repo')).statusCode).toBe(404);
      expect(
        (await t.app.inject({ url: '/webhooks/repo', ...githubRequest(secret, 'd-6') })).statusCode,
      ).toBe(404);
      await other.engine.events.sources.refresh();
      expect(
        (await other.app.inject({ url: '/webhooks/repo', ...githubRequest(secret, 'd-7') })).statusCode,
      ).toBe(404);
    });

    it('refreshes only what changed: an unchanged stored source is not decrypted or rebuilt again', async () => {
      expect(
        (await api('POST', '/sources', { id: 'lab', verify: { scheme: 'none', insecure: true } })).statusCode,
      ).toBe(201);
      const warnings = () =>
        t.logs.lines.filter((l) => l.includes('"source":"lab"') && l.includes('UNSIGNED')).length;
      await t.engine.events.sources.refresh();
      const afterFirst = warnings();
      await t.engine.events.sources.refresh();
      await t.engine.events.sources.refresh();
      expect(warnings()).toBe(afterFirst);
      expect((await api('DELETE', '/sources/lab')).statusCode).toBe(204);
    });
  });
}
