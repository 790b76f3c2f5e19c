import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { startGitHubFake } from '../../src/testing/index.js';
import { generateWebhookSecret } from '../../src/webhooks/index.js';
import { dialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { Receiver } from '../helpers/receiver.js';
import { UiClient } from './ui-client.js';

const TOKEN = 'ui-admin-token-0123456789';

describe.each(dialects)('dashboard pages ($name)', (dialect) => {
  let t: TestEngine;
  let ui: UiClient;
  let receiver: Receiver;
  const secret = generateWebhookSecret();
  const clock = new FakeClock(Date.now());
  const attempt = (id: string) => t.engine.delivery.attempt(id, new AbortController().signal);

  beforeAll(async () => {
    receiver = await new Receiver([secret]).start();
    t = await openTestEngine(
      dialect,
      {
        server: { adminToken: TOKEN },
        destinations: [{ id: 'crm-app', url: receiver.url, secrets: [secret] }],
        delivery: { allowedNetworks: ['127.0.0.0/8'] },
        // The provider fakes are on loopback: open to connections by configuration.
        vault: { allowedNetworks: ['127.0.0.0/8'] },
      },
      { clock },
    );
    ui = new UiClient(t.app);
    await ui.signIn(TOKEN);
  });
  afterAll(async () => {
    await t.close();
    await receiver.stop();
  });

  it('lists events newest first and filters them by payload text, escaping what senders wrote', async () => {
    await t.engine.publish({ type: 'order.created', payload: { note: 'needle <script>alert(1)</script>' } });
    await clock.advance(10);
    await t.engine.publish({ type: 'order.created', payload: { note: 'hay' } });
    const all = await ui.get('/ui/events');
    expect(all.statusCode).toBe(200);
    const rows = [...all.body.matchAll(/href="\/ui\/events\/(evt_\w+)"/g)].map((m) => m[1]);
    expect(rows).toHaveLength(2);
    const found = await ui.get('/ui/events?text=needle');
    expect([...found.body.matchAll(/href="\/ui\/events\/(evt_\w+)"/g)].map((m) => m[1])).toEqual([rows[1]]);
    const detail = await ui.get(`/ui/events/${rows[1]}`);
    expect(detail.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(detail.body).not.toContain('<script>alert');
    expect(detail.body).toContain('crm-app');
  });

  it('filters deliveries by status and HTTP status, shows the attempts, and replays one', async () => {
    receiver.behaviour = (_r, res) => void res.writeHead(503, { 'content-type': 'text/plain' }).end('busy');
    const { id: eventId } = await t.engine.publish({ type: 'invoice.paid', payload: { n: 1 } });
    const [delivery] = await t.engine.delivery.list({ eventId, limit: 1 });
    await attempt(delivery!.id);
    const failing = await ui.get('/ui/deliveries?http=5xx');
    expect(failing.body).toContain(delivery!.id);
    const ok = await ui.get('/ui/deliveries?http=200-299');
    expect(ok.body).not.toContain(delivery!.id);
    const bad = await ui.get('/ui/deliveries?http=teapot');
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('http must be a status');

    const page = await ui.get(`/ui/deliveries/${delivery!.id}`);
    expect(page.body).toContain('Attempt 1');
    expect(page.body).toContain('HTTP 503');
    expect(page.body).toContain('busy');

    receiver.behaviour = (_r, res) => void res.writeHead(200).end('ok');
    const replay = await ui.post(`/ui/deliveries/${delivery!.id}/replay`);
    expect(replay.statusCode).toBe(303);
    await attempt(delivery!.id);
    const after = await ui.get(`/ui/deliveries/${delivery!.id}`);
    expect(after.body).toContain('Attempt 2');
    expect(after.body).toMatch(
      /Attempt 2 <span class="status ok">succeeded<\/span> <span class="muted">manual<\/span>/,
    );
  });

  it('pages with a keyset cursor: "Older" continues after the last row shown', async () => {
    for (let i = 0; i < 60; i++) {
      await t.engine.publish({ type: 'bulk.item', payload: { i } });
      await clock.advance(1);
    }
    const first = await ui.get('/ui/events?type=bulk.item');
    const ids = (body: string) => [...body.matchAll(/href="\/ui\/events\/(evt_\w+)"/g)].map((m) => m[1]!);
    expect(ids(first.body)).toHaveLength(50);
    const older = /href="(\/ui\/events\?[^"]*before=[^"]+)" rel="next"/
      .exec(first.body)![1]!
      .replace(/&amp;/g, '&');
    const second = await ui.get(older);
    expect(ids(second.body)).toHaveLength(10);
    expect(new Set([...ids(first.body), ...ids(second.body)]).size).toBe(60);
  });

  it('disables and enables a destination, and says why it is disabled', async () => {
    const disabled = await ui.post('/ui/destinations/crm-app/disable', { reason: 'receiver migrating' });
    expect(disabled.statusCode).toBe(303);
    expect((await t.engine.delivery.destinations.get('crm-app'))!.status).toBe('disabled');
    const page = await ui.get('/ui/destinations');
    expect(page.body).toContain('receiver migrating');
    await ui.post('/ui/destinations/crm-app/enable');
    expect((await t.engine.delivery.destinations.get('crm-app'))!.status).toBe('enabled');
  });

  it('rotates the signing secret of an API destination, showing the new one once and never in a URL', async () => {
    await t.engine.delivery.destinations.create({ id: 'api-dest', url: receiver.url, secrets: [secret] });
    const res = await ui.post('/ui/destinations/api-dest/rotate-secret');
    expect(res.statusCode).toBe(200);
    const shown = /(whsec_[A-Za-z0-9+/=]+)/.exec(res.body)![1]!;
    expect(await t.engine.delivery.destinations.secrets('api-dest')).toEqual([shown, secret]);
    const configured = await ui.post('/ui/destinations/crm-app/rotate-secret');
    expect(configured.statusCode).toBe(303);
    expect(new URL(String(configured.headers.location), 'http://x').searchParams.get('problem')).toContain(
      'configuration file',
    );
  });

  it("tests a connection with its provider's check, and says why it did not pass", async () => {
    const fake = await startGitHubFake();
    try {
      const github = (id: string, token: string) =>
        t.engine.vault.connections.create({
          id,
          provider: 'github',
          baseUrl: fake.url,
          auth: { scheme: 'bearer', token },
        });
      await github('gh-good', `ghp_${'a'.repeat(36)}`);
      await github('gh-bad', 'not-a-token');
      await t.engine.vault.connections.create({
        id: 'plain',
        baseUrl: fake.url,
        auth: { scheme: 'bearer', token: 't' },
      });
      expect((await ui.get('/ui/connections/gh-good')).body).toContain('>Test connection</button>');
      const passed = await ui.post('/ui/connections/gh-good/check');
      expect(passed.statusCode).toBe(200);
      expect(passed.body).toMatch(
        /Passed: HTTP 200 from GET <code>\/[^<]*<\/code> in \d+ ms; the provider accepted the credentials/,
      );
      const refused = await ui.post('/ui/connections/gh-bad/check');
      expect(refused.body).toMatch(/role="alert">[A-Z_]+ \(HTTP 401\): /);
      const none = await ui.post('/ui/connections/plain/check');
      expect(none.body).toContain('connection &quot;plain&quot; has no provider check');
      expect(none.body).toContain('call a path of its API');
      const forged = await ui.post('/ui/connections/gh-good/check', {}, { csrf: false });
      expect(forged.statusCode).toBe(403);
    } finally {
      await fake.close();
    }
  });

  it('shows every destination, source and connection on the overview', async () => {
    await t.engine.delivery.destinations.create({
      id: 'no-breaker',
      url: receiver.url,
      secrets: [secret],
      breaker: false,
    });
    const res = await ui.get('/ui/');
    expect(res.body).toContain('href="/ui/destinations/crm-app"');
    // A destination without a breaker says so, rather than showing one closed.
    expect(res.body).toMatch(
      /href="\/ui\/destinations\/no-breaker">no-breaker<\/a><\/td><td><span class="status ok">enabled<\/span> <span class="muted">off<\/span>/,
    );
    expect(res.body).toMatch(/destinations\/crm-app">crm-app<\/a><\/td><td>[^\n]*status ok">closed/);
    expect(res.body).toContain('href="/ui/syncs"');
  });

  it('lists syncs, and answers 404 naming the known ones for an unknown sync', async () => {
    const list = await ui.get('/ui/syncs');
    expect(list.statusCode).toBe(200);
    expect(list.body).toContain('No sync yet');
    const missing = await ui.get('/ui/syncs/nope');
    expect(missing.statusCode).toBe(404);
    expect(missing.body).toContain('no sync nope (none is defined)');
  });
});
