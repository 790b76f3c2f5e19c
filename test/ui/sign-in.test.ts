import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { dialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { UiClient } from './ui-client.js';

const TOKEN = 'ui-admin-token-0123456789';
const sqlite = dialects[0]!;

describe('dashboard sign-in', () => {
  let t: TestEngine;
  const clock = new FakeClock(Date.UTC(2026, 2, 1));

  beforeAll(async () => {
    t = await openTestEngine(sqlite, { server: { adminToken: TOKEN }, ui: { sessionTtl: '1h' } }, { clock });
  });
  afterAll(() => t.close());

  it('sends a visitor without a session to the sign-in page, keeping where they were going', async () => {
    const res = await new UiClient(t.app).get('/ui/deliveries?status=failed');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(
      `/ui/sign-in?next=${encodeURIComponent('/ui/deliveries?status=failed')}`,
    );
  });

  it('refuses a wrong token without setting a cookie', async () => {
    const ui = new UiClient(t.app);
    const res = await ui.signIn('not-the-admin-token-at-all');
    expect(res.statusCode).toBe(401);
    expect(res.body).toContain('That is not the admin token.');
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('signs in with the admin token: an HttpOnly, SameSite=Strict session cookie scoped to /ui', async () => {
    const ui = new UiClient(t.app);
    const res = await ui.signIn(TOKEN);
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/ui/');
    const cookie = String(res.headers['set-cookie']);
    expect(cookie).toMatch(
      /^patchbay_session=[\w-]+\.\d+\.[\w-]+; Path=\/ui; Max-Age=3600; HttpOnly; SameSite=Strict$/,
    );
    const page = await ui.get('/ui/');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h1>Overview</h1>');
    expect(page.body).not.toContain(TOKEN);
  });

  it('marks the cookie Secure when the request came over https (through a trusted proxy)', async () => {
    const proxied = await openTestEngine(sqlite, { server: { adminToken: TOKEN, trustProxy: true } });
    try {
      const res = await proxied.app.inject({
        method: 'POST',
        url: '/ui/sign-in',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-forwarded-proto': 'https',
          'sec-fetch-site': 'same-origin',
        },
        payload: new URLSearchParams({ token: TOKEN }).toString(),
      });
      expect(res.statusCode).toBe(303);
      expect(String(res.headers['set-cookie'])).toMatch(/; Secure$/);
    } finally {
      await proxied.close();
    }
  });

  it('refuses a change whose form lacks the session CSRF token, and changes nothing', async () => {
    const ui = new UiClient(t.app);
    await ui.signIn(TOKEN);
    await ui.get('/ui/');
    const forged = await ui.post('/ui/sign-out', {}, { csrf: false });
    expect(forged.statusCode).toBe(403);
    expect(forged.body).toContain('CSRF');
    const wrong = await ui.post('/ui/sign-out', { _csrf: 'x'.repeat(43) }, { csrf: false });
    expect(wrong.statusCode).toBe(403);
    expect((await ui.get('/ui/')).statusCode).toBe(200);
  });

  it('refuses a form posted from another site before looking at it', async () => {
    const ui = new UiClient(t.app);
    await ui.signIn(TOKEN);
    await ui.get('/ui/');
    const res = await ui.post(
      '/ui/sign-out',
      {},
      { headers: { origin: 'https://attacker.example', 'sec-fetch-site': 'cross-site' } },
    );
    expect(res.statusCode).toBe(403);
    expect((await ui.get('/ui/')).statusCode).toBe(200);
  });

  it('answers only to the configured host names (DNS rebinding)', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/ui/sign-in',
      headers: { host: 'attacker.example' },
    });
    expect(res.statusCode).toBe(421);
  });

  it('lets a link from another site in: the page reloads itself once so the Strict cookie is sent', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: '/ui/events',
      headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'navigate' },
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<meta http-equiv="refresh" content="0">');
  });

  it('signs out: the cookie is cleared and the old session no longer opens a page', async () => {
    const ui = new UiClient(t.app);
    await ui.signIn(TOKEN);
    await ui.get('/ui/');
    const old = ui.cookie!;
    const res = await ui.post('/ui/sign-out');
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/ui/sign-in');
    expect(String(res.headers['set-cookie'])).toMatch(/^patchbay_session=; Path=\/ui; Max-Age=0/);
    const replayed = await t.app.inject({ method: 'GET', url: '/ui/', headers: { cookie: old } });
    expect(replayed.statusCode).toBe(303);
  });

  it('expires a session after its lifetime', async () => {
    const ui = new UiClient(t.app);
    await ui.signIn(TOKEN);
    expect((await ui.get('/ui/')).statusCode).toBe(200);
    await clock.advance(3_600_000);
    expect((await ui.get('/ui/')).headers.location).toMatch(/^\/ui\/sign-in/);
  });

  it('does not take a forged or altered cookie', async () => {
    const ui = new UiClient(t.app);
    await ui.signIn(TOKEN);
    const [id, , mac] = ui.cookie!.split('=')[1]!.split('.');
    const longer = `patchbay_session=${id}.${clock.now() + 10 * 3_600_000}.${mac}`;
    expect((await t.app.inject({ method: 'GET', url: '/ui/', headers: { cookie: longer } })).statusCode).toBe(
      303,
    );
  });

  it('only sends a signed-in user on to a page of the dashboard (no open redirect)', async () => {
    const ui = new UiClient(t.app);
    const res = await ui.post('/ui/sign-in', { token: TOKEN, next: '//attacker.example/ui/' });
    expect(res.headers.location).toBe('/ui/');
  });
});

describe('dashboard without an admin token', () => {
  let t: TestEngine;
  beforeAll(async () => {
    t = await openTestEngine(sqlite, {});
  });
  afterAll(() => t.close());

  it('is open on loopback, with a banner saying so, and still checks CSRF on changes', async () => {
    const ui = new UiClient(t.app);
    const page = await ui.get('/ui/');
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('No admin token is set');
    expect(page.body).not.toContain('Sign out');
    expect((await ui.post('/ui/sign-out', {}, { csrf: false })).statusCode).toBe(403);
  });
});
