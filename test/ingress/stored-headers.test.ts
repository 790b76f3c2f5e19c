import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIAL_HEADERS, isCredentialHeader, storedHeaders } from '../../src/webhooks/stored-headers.js';
import { headersToStore } from '../../src/webhooks/verify/index.js';
import { allDialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';

/** The rule, as a list: what a stored event keeps of its request's headers, and what it never keeps. */
const KEPT = [
  'content-type',
  'content-length',
  'user-agent',
  'x-github-event',
  'x-github-delivery',
  'x-github-hook-id',
  'webhook-id',
  'webhook-timestamp',
  'x-hubspot-request-timestamp',
  'x-slack-request-timestamp',
  'x-request-id',
  'x-forwarded-for',
  'x-forwarded-proto',
  'traceparent',
  'accept-encoding',
];
const STRIPPED = [
  ...CREDENTIAL_HEADERS,
  'Authorization',
  'X-Forwarded-Authorization',
  'x-session-token',
  'x-client-secret',
  'x-acme-signature',
  'x-password',
  'x-goog-iap-jwt-assertion-auth',
  'x-upstream-api-key',
  'x-bearer',
  'x-credentials',
];

describe('the kept-headers rule', () => {
  it.each(KEPT)('keeps %s', (name) => expect(isCredentialHeader(name)).toBe(false));
  it.each(STRIPPED)('strips %s', (name) => expect(isCredentialHeader(name)).toBe(true));

  it('strips every scheme signature header and a configured one, keeping the rest', () => {
    const headers = Object.fromEntries([...KEPT, ...STRIPPED].map((n) => [n, `value-of-${n}`]));
    expect(Object.keys(storedHeaders(headers, ['X-My-Sig'])).sort()).toEqual([...KEPT].sort());
    const github = headersToStore('github', {
      'x-hub-signature-256': 'sha256=ab',
      'x-hub-signature': 'sha1=cd',
      a: '1',
    });
    expect(github).toEqual({ a: '1' });
    expect(headersToStore('hmac-sha256', { 'x-my-sig': 'ab', a: '1' }, ['X-My-Sig'])).toEqual({ a: '1' });
  });
});

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`stored webhook headers on ${dialect.name}`, () => {
    const secret = randomBytes(16).toString('hex');
    const planted = {
      authorization: `Bearer planted-${randomBytes(12).toString('hex')}`,
      cookie: `session=planted-${randomBytes(12).toString('hex')}`,
      'x-api-key': `planted-${randomBytes(12).toString('hex')}`,
      'proxy-authorization': `Basic planted-${randomBytes(12).toString('hex')}`,
      'x-session-token': `planted-${randomBytes(12).toString('hex')}`,
    };
    let t: TestEngine;
    let base: string;

    beforeAll(async () => {
      t = await openTestEngine(dialect, {
        sources: [
          {
            id: 'acme',
            verify: { scheme: 'hmac-sha256', secrets: [secret], header: 'X-Acme-Sig', idHeader: 'x-acme-id' },
          },
        ],
      });
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    });
    afterAll(async () => t?.close());

    it('never stores or returns credential and signature headers, in the API or the database files', async () => {
      const body = JSON.stringify({ type: 'invoice.paid', amount: 12 });
      const signature = createHmac('sha256', secret).update(body).digest('hex');
      const res = await request(`${base}/webhooks/acme`, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/json',
          'x-acme-id': 'evt-1',
          'x-acme-sig': signature,
          'x-acme-event': 'invoice.paid',
          ...planted,
        },
      });
      expect(res.statusCode).toBe(200);
      await res.body.dump();

      const list = await t.app.inject({ url: '/api/v1/events?source=acme' });
      const id = list.json().data[0].id as string;
      const shown = await t.app.inject({ url: `/api/v1/events/${id}` });
      const headers = shown.json().headers as Record<string, string>;
      expect(headers).toMatchObject({
        'content-type': 'application/json',
        'x-acme-event': 'invoice.paid',
        'x-acme-id': 'evt-1',
      });
      for (const name of [...Object.keys(planted), 'x-acme-sig']) expect(headers[name], name).toBeUndefined();
      const values = [...Object.values(planted), signature];
      for (const value of values) expect(shown.body).not.toContain(value);

      let raw: string;
      if (dialect.name === 'sqlite') {
        const path = t.testDb.url.replace(/^sqlite:/, '');
        raw = [path, `${path}-wal`, `${path}-shm`]
          .filter((p) => existsSync(p))
          .map((p) => readFileSync(p).toString('latin1'))
          .join('\n');
        expect(raw).toContain('invoice.paid');
      } else {
        const rows = await sql<{ row: string }>`select e::text as row from events e`.execute(t.db.db);
        raw = rows.rows.map((r) => r.row).join('\n');
      }
      for (const value of values) expect(raw).not.toContain(value.split(' ').pop()!);
    });
  });
}
