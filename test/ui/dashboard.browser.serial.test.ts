import { createHmac } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookSecret } from '../../src/webhooks/index.js';
import { dialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { type OidcServer, startOidcServer } from '../helpers/oidc-server.js';
import { Receiver } from '../helpers/receiver.js';
import { syncToReview } from './sync-to-review.js';

/**
 * The dashboard in a real Chromium (Debian's package, driven by playwright-core): one browser for the
 * whole suite. `PATCHBAY_TEST_CHROMIUM` names the binary (scripts/services.sh sets it), else
 * /usr/bin/chromium. With `PATCHBAY_UPDATE_SCREENSHOTS=1` the screenshots go to docs/dashboard/ (the
 * pictures of docs/dashboard.md), else to a temporary directory.
 */
const CHROMIUM = process.env.PATCHBAY_TEST_CHROMIUM || '/usr/bin/chromium';
const TOKEN = 'browser-admin-token-5f1c9a7e3b';
const GH_SECRET = 'gh-webhook-secret-0123456789';
const FAILED = 40;
const SHOTS = process.env.PATCHBAY_UPDATE_SCREENSHOTS
  ? join(import.meta.dirname, '../../docs/dashboard')
  : join(tmpdir(), 'patchbay-dashboard-shots');
const axeSource = (createRequire(import.meta.url)('axe-core') as { source: string }).source;

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

describe.skipIf(!existsSync(CHROMIUM))('dashboard in Chromium', () => {
  let t: TestEngine;
  let receiver: Receiver;
  let oidc: OidcServer;
  let attacker: Server;
  let browser: Browser;
  let page: Page;
  let base: string;
  const problems: string[] = [];
  /** Answers a test asks for on purpose (a wrong token's 401, a forged form's 403): Chromium logs them. */
  const deliberate: { path: string; status: number }[] = [];
  const secret = generateWebhookSecret();
  const attempt = (id: string) => t.engine.delivery.attempt(id, new AbortController().signal);

  async function signedGithub(n: number): Promise<void> {
    const body = JSON.stringify({ action: 'opened', number: n, repository: { full_name: 'acme/app' } });
    const res = await fetch(`${base}/webhooks/gh`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issues',
        'x-github-delivery': `d-${n}`,
        'x-hub-signature-256': `sha256=${createHmac('sha256', GH_SECRET).update(body).digest('hex')}`,
      },
      body,
    });
    expect(res.status).toBeLessThan(300);
  }

  /** Serious and critical accessibility problems of the page as axe-core finds them. */
  async function axe(): Promise<string[]> {
    // Evaluated through the DevTools protocol: the page's CSP (script-src 'self') does not apply.
    await page.evaluate(axeSource);
    const { violations, passes } = await page.evaluate(async () => {
      const axe = (
        globalThis as unknown as {
          axe: { run(): Promise<{ violations: AxeViolation[]; passes: unknown[] }> };
        }
      ).axe;
      const results = await axe.run();
      return { violations: results.violations, passes: results.passes.length };
    });
    expect(passes, 'axe-core ran its rules').toBeGreaterThan(10);
    return violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  }

  async function shot(name: string): Promise<void> {
    await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  }

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    receiver = await new Receiver([secret]).start();
    t = await openTestEngine(dialects[0]!, {
      server: { adminToken: TOKEN },
      sources: [{ id: 'gh', verify: { scheme: 'github', secrets: [GH_SECRET] } }],
      destinations: [
        { id: 'crm-app', url: receiver.url, secrets: [secret], events: ['api.order.*', 'gh.*'] },
      ],
      // No retry: a failure is final, so the deliveries are `failed` at once.
      delivery: { allowedNetworks: ['127.0.0.0/8'], retrySchedule: [] },
      vault: { allowInsecureLoopback: true },
    });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    oidc = await startOidcServer({ redirectUris: [`${base}/oauth/callback`] });
    await t.engine.vault.connections.create({
      id: 'crm',
      baseUrl: oidc.resourceUrl,
      auth: {
        scheme: 'oauth2-authorization-code',
        issuer: oidc.issuer,
        clientId: oidc.clients.web.id,
        clientSecret: oidc.clients.web.secret,
        scopes: ['openid', 'offline_access'],
        authorizationParams: { prompt: 'consent' },
      },
    });
    // Failed deliveries to find, replay and retry in bulk; events of a webhook source; one refusal.
    // A 422 is final (no retry) and does not count against the breaker: every delivery ends `failed`.
    receiver.behaviour = (_r, res) =>
      void res.writeHead(422, { 'content-type': 'text/plain' }).end('order 1000 is unknown here');
    for (let i = 0; i < FAILED; i++) {
      const { id } = await t.engine.publish({ type: 'order.created', payload: { order: 1000 + i } });
      for (const d of await t.engine.delivery.list({ eventId: id, limit: 5 })) await attempt(d.id);
    }
    for (let n = 1; n <= 3; n++) await signedGithub(n);
    await fetch(`${base}/webhooks/gh`, { method: 'POST', body: '{}', headers: { 'x-github-event': 'push' } });
    // A page of another site that posts a form to the dashboard (what CSRF protection is for).
    attacker = createServer((_req, res) =>
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(
          `<form id="f" method="post" action="${base}/ui/destinations/crm-app/disable"><input name="reason" value="forged"></form><script>document.getElementById('f').submit()</script>`,
        ),
    );
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    // A sync with a conflict, a quarantined record and held deletes: every action of its page shows.
    const source = await syncToReview(t.engine);
    for (let i = 10; i < 15; i++) source.records.delete(String(i).padStart(6, '0'));
    await t.engine.syncs.runNow('people', { mode: 'full' });

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const context = await browser.newContext({ viewport: { width: 1024, height: 640 } });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
    page.on('console', (m) => {
      // Only the dashboard's pages are ours to judge (the OAuth server's login page is not).
      if (m.type() !== 'error' || !page.url().startsWith(base)) return;
      const status = /status of (\d{3})/.exec(m.text())?.[1];
      const path = new URL(page.url()).pathname;
      if (deliberate.some((d) => d.path === path && String(d.status) === status)) return;
      problems.push(`console error on ${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error on ${page.url()}: ${err.message}`));
    page.on('dialog', (dialog) => void dialog.accept());
  });

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    await t?.close();
    await oidc?.close();
    await receiver?.stop();
  });

  it('signs in with the admin token, and refuses a wrong one', async () => {
    await page.goto(`${base}/ui/deliveries?status=failed`);
    expect(new URL(page.url()).pathname).toBe('/ui/sign-in');
    await shot('sign-in');
    deliberate.push({ path: '/ui/sign-in', status: 401 });
    await page.getByLabel('Admin token').fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not the admin token');
    await page.getByLabel('Admin token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${base}/ui/deliveries?status=failed`);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'patchbay_session')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/ui' });
  });

  it('refuses a forged form: a wrong CSRF token, and a form posted from another site', async () => {
    deliberate.push({ path: '/ui/destinations/crm-app/disable', status: 403 });
    await page.goto(`${base}/ui/destinations/crm-app`);
    await page.locator('form[action$="/disable"] input[name="_csrf"]').evaluate((input) => {
      (input as unknown as { value: string }).value = 'forged-token';
    });
    const refused = page.waitForResponse((r) => r.url().endsWith('/disable'));
    await page.getByRole('button', { name: 'Disable' }).click();
    expect((await refused).status()).toBe(403);
    await expect.poll(() => page.locator('main').textContent()).toContain('CSRF check');
    const { port } = attacker.address() as AddressInfo;
    const fromElsewhere = page.waitForResponse((r) => r.url().endsWith('/disable'));
    await page.goto(`http://127.0.0.1:${port}/`);
    expect((await fromElsewhere).status()).toBe(403);
    expect((await t.engine.delivery.destinations.get('crm-app'))!.status).toBe('enabled');
  });

  it('filters deliveries, opens an attempt, replays it and shows the new attempt', async () => {
    await page.goto(`${base}/ui/deliveries`);
    await page.locator('#f-status').selectOption('failed');
    await page.getByLabel('HTTP status').fill('4xx');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/status=failed/);
    const rows = page.locator('#delivery-rows tr');
    expect(await rows.count()).toBe(FAILED);
    await shot('deliveries');
    await rows.first().getByRole('link').first().click();
    await page.waitForURL(/\/ui\/deliveries\/dlv_/);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    await expect.poll(() => page.locator('#attempt-1').textContent()).toContain('HTTP 422');
    await page.locator('#attempt-1 summary', { hasText: 'Response' }).click();
    expect(await page.locator('#attempt-1 details[open] pre').last().textContent()).toBe(
      'order 1000 is unknown here',
    );
    await shot('delivery');
    receiver.behaviour = (_r, res) => void res.writeHead(200).end('ok');
    await page.getByRole('button', { name: 'Replay now' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Replay queued');
    await attempt(id);
    await page.reload();
    await expect
      .poll(() => page.locator('#attempt-2').textContent())
      .toMatch(/Attempt 2\s*succeeded\s*manual/);
  });

  it('retries every failed delivery of a filter as a background job, running to completion with progress', async () => {
    await page.goto(`${base}/ui/deliveries?status=failed&destination=crm-app`);
    await page.getByRole('button', { name: 'Retry failed matching' }).click();
    await page.waitForURL(/\/ui\/jobs\/job_/);
    const progress = page.locator('#job-progress');
    await expect
      .poll(() => page.locator('[data-progress-text]').textContent(), { timeout: 20_000 })
      .toBe(`Done: retried ${FAILED - 1} of ${FAILED - 1}.`);
    expect(await progress.getAttribute('max')).toBe(String(FAILED - 1));
    expect(await progress.evaluate((p) => (p as unknown as { value: number }).value)).toBe(FAILED - 1);
    await shot('job');
    const left = await t.engine.delivery.browse({ status: 'failed', limit: 100, window: 1000 });
    expect(left.rows).toHaveLength(0);
  });

  it('disables and enables a destination', async () => {
    await page.goto(`${base}/ui/destinations/crm-app`);
    await page.getByLabel('Reason').fill('receiver migrating');
    await page.getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Disabled crm-app');
    expect((await t.engine.delivery.destinations.get('crm-app'))!.status).toBe('disabled');
    expect(await page.locator('dl.facts').textContent()).toContain('receiver migrating');
    await page.getByRole('button', { name: 'Enable' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Enabled crm-app');
    expect((await t.engine.delivery.destinations.get('crm-app'))!.status).toBe('enabled');
    await shot('destination');
  });

  it('authorizes a connection against the OAuth server and makes a test call with it', async () => {
    await page.goto(`${base}/ui/connections/crm`);
    expect(await page.getByRole('alert').textContent()).toContain('needs re-authorization');
    await page.getByRole('button', { name: 'Authorize' }).click();
    await page.waitForURL(`${oidc.issuer}/**`);
    await page.locator('input[name="login"]').fill('alice');
    await page.locator('input[name="password"]').fill('any');
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]', { hasText: 'Continue' }).click();
    await page.waitForURL(`${base}/ui/connections/crm?*`);
    expect((await t.engine.vault.connections.require('crm')).status).toBe('active');
    expect(await page.locator('dl.facts').textContent()).toContain('active');
    await shot('connection');
    await page.getByLabel('Call a path: GET').fill('/whoami');
    await page.getByRole('button', { name: 'Call' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toMatch(/^HTTP 200 after 1 attempt/);
    expect(await page.locator('pre').last().textContent()).toContain('"client": "web-client"');
  });

  it('tails new events live once asked, with the page filter', async () => {
    await page.goto(`${base}/ui/events?source=api`);
    const before = await page.locator('#event-rows tr').count();
    await page.getByRole('button', { name: 'Start live tail' }).click();
    await expect.poll(() => page.getByRole('status').textContent()).toContain('Live');
    // The tail continues after the newest row the page showed, whenever the stream opens.
    const { id } = await t.engine.publish({ type: 'order.shipped', payload: { order: 77 } });
    await signedGithub(4);
    await page.locator(`#event-rows a[href="/ui/events/${id}"]`).waitFor();
    expect(await page.locator('#event-rows tr').count()).toBe(before + 1);
    await page.getByRole('button', { name: 'Stop live tail' }).click();
  });

  it('shows every page without a console error or a serious accessibility problem', {
    timeout: 90_000,
  }, async () => {
    const eventId = (await t.engine.events.browse({ source: 'gh', limit: 1, window: 100 })).rows[0]!.id;
    const pages: [string, string | undefined][] = [
      ['/ui/', 'overview'],
      ['/ui/events', 'events'],
      [`/ui/events/${eventId}`, 'event'],
      ['/ui/deliveries', undefined],
      ['/ui/jobs', 'jobs'],
      ['/ui/destinations', 'destinations'],
      ['/ui/sources', 'sources'],
      ['/ui/sources/gh', 'source'],
      ['/ui/connections', 'connections'],
      ['/ui/connections/crm', undefined],
      ['/ui/syncs', 'syncs'],
      ['/ui/syncs/people', 'sync'],
      ['/ui/destinations/crm-app', undefined],
    ];
    const found: string[] = [];
    for (const [path, name] of pages) {
      const res = await page.goto(`${base}${path}`);
      expect(res!.status(), path).toBe(200);
      if (name) await shot(name);
      for (const v of await axe()) found.push(`${path}: ${v}`);
    }
    // A job page and a delivery page, and the sign-in page (after signing out).
    const delivery = (await t.engine.delivery.browse({ limit: 1, window: 10 })).rows[0]!.id;
    await page.goto(`${base}/ui/deliveries/${delivery}`);
    for (const v of await axe()) found.push(`delivery: ${v}`);
    await page.goto(`${base}/ui/jobs`);
    await page.locator('a[href^="/ui/jobs/job_"]').first().click();
    for (const v of await axe()) found.push(`job: ${v}`);
    expect(found.join('\n')).toBe('');
    expect(problems.join('\n')).toBe('');
  });

  it('resolves a conflict and confirms held deletes from a sync page', async () => {
    await page.goto(`${base}/ui/syncs/people`);
    await page.getByRole('button', { name: 'Keep local' }).click();
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toMatch(/^Resolved the conflict on 000001 \(local\)/);
    // Confirmed in the browser's dialog (accepted by the handler above).
    await page.getByRole('button', { name: 'Confirm the deletes' }).click();
    await expect
      .poll(() => page.getByRole('status').textContent())
      .toContain('the next run of people deletes the held records');
    expect((await t.engine.syncs.status('people')).conflictsOpen).toBe(0);
  });

  it('signs out: the session ends and pages ask for sign-in again', async () => {
    await page.goto(`${base}/ui/`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL(`${base}/ui/sign-in`);
    for (const v of await axe()) problems.push(`sign-in: ${v}`);
    await page.goto(`${base}/ui/events`);
    expect(new URL(page.url()).pathname).toBe('/ui/sign-in');
    expect(problems.join('\n')).toBe('');
  });
});
