import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import { graphFetch, type Json, startFake } from './helpers.js';

let fake: RunningMsGraphFake;
beforeAll(async () => {
  fake = await startFake({ https: false });
});
afterAll(async () => {
  await fake.close();
});

async function token(
  form: Record<string, string>,
  headers: Record<string, string> = {},
  tenant = fake.app.tenantId,
) {
  const response = await fetch(`${fake.url}/${tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Json };
}

const good = () => ({
  client_id: fake.app.clientId,
  client_secret: fake.app.clientSecret,
  scope: 'https://graph.microsoft.com/.default',
  grant_type: 'client_credentials',
});

describe('Graph fake: the token endpoint', () => {
  it('lists its default app registration at GET /_fake and GET /_fake/apps', async () => {
    const root = (await (await fetch(`${fake.url}/_fake`)).json()) as Json;
    expect(root.provider).toBe('msgraph');
    expect(root.apps[0]).toMatchObject({ clientId: fake.app.clientId, tenantId: fake.app.tenantId });
    const apps = (await (await fetch(`${fake.url}/_fake/apps`)).json()) as Json;
    expect(apps.apps[0].clientSecret).toBe(fake.app.clientSecret);
  });

  it('grants client credentials: Bearer, expires_in 3599, no refresh token', async () => {
    const { status, body } = await token(good());
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 3599 });
    expect(body.access_token).toMatch(/^eyJ/);
    expect(body.refresh_token).toBeUndefined();
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url').toString());
    expect(claims.roles).toEqual(['Mail.ReadWrite', 'Mail.Send', 'User.Read.All']);
  });

  it('takes the client credentials by HTTP Basic too', async () => {
    const { client_id, client_secret, ...rest } = good();
    const basic = Buffer.from(
      `${encodeURIComponent(client_id)}:${encodeURIComponent(client_secret)}`,
    ).toString('base64');
    expect((await token(rest, { authorization: `Basic ${basic}` })).status).toBe(200);
  });

  it('refuses a wrong secret with 401 invalid_client AADSTS7000215', async () => {
    const { status, body } = await token({ ...good(), client_secret: 'wrong' });
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
    expect(body.error_codes).toEqual([7000215]);
    expect(body.error_description).toMatch(
      /^AADSTS7000215: Invalid client secret provided\..*\r\nTrace ID: .*\r\nCorrelation ID: /s,
    );
  });

  it('names what is wrong: scope, grant, client id, tenant', async () => {
    expect((await token({ ...good(), scope: 'Mail.Read' })).body).toMatchObject({
      error: 'invalid_scope',
      error_codes: [70011],
    });
    expect((await token({ ...good(), grant_type: 'password' })).body).toMatchObject({
      error: 'unsupported_grant_type',
    });
    const { scope: _s, ...noScope } = good();
    expect((await token(noScope)).body.error_description).toContain("parameter: 'scope'");
    expect(
      (await token({ ...good(), client_id: '00000000-0000-0000-0000-000000000000' })).body.error_codes,
    ).toEqual([700016]);
    expect((await token(good(), {}, 'nowhere.example')).body.error_codes).toEqual([90002]);
    expect((await token(good(), {}, 'contoso.onmicrosoft.com')).status).toBe(200);
  });

  it('issues tokens without roles when the app has no admin consent: Graph then answers 403', async () => {
    const created = (await (
      await fetch(`${fake.url}/_fake/apps`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ displayName: 'Unconsented', adminConsent: false }),
      })
    ).json()) as Json;
    const { body } = await token({
      ...good(),
      client_id: created.app.clientId,
      client_secret: created.app.clientSecret,
    });
    const messages = await graphFetch(fake, body.access_token, '/v1.0/users/adele@contoso.test/messages');
    expect(messages.status).toBe(403);
    expect(messages.body.error.code).toBe('ErrorAccessDenied');
    const users = await graphFetch(fake, body.access_token, '/v1.0/users');
    expect(users.body.error.code).toBe('Authorization_RequestDenied');
  });

  it('answers 401 InvalidAuthenticationToken without a token, with a foreign one, and once it expired', async () => {
    const none = await fetch(`${fake.url}/v1.0/users`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer realm=""/);
    expect(((await none.json()) as Json).error).toMatchObject({
      code: 'InvalidAuthenticationToken',
      message: 'Access token is empty.',
    });
    const forged = await graphFetch(fake, 'eyJhbGciOiJub25lIn0.eyJhcHBpZCI6IngifQ.c2ln', '/v1.0/users');
    expect(forged.status).toBe(401);
    const { body } = await token(good());
    expect((await graphFetch(fake, body.access_token, '/v1.0/users')).status).toBe(200);
    fake.clock.advance(3599_000);
    const expired = await graphFetch(fake, body.access_token, '/v1.0/users');
    expect(expired.status).toBe(401);
    expect(expired.body.error.message).toBe('Lifetime validation failed, the token is expired.');
  });
});
