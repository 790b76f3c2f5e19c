import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { generateWebhookSecret } from '../../src/webhooks/index.js';
import { dialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { Receiver } from '../helpers/receiver.js';
import { UiClient } from './ui-client.js';

const TOKEN = 'ui-admin-token-0123456789';

describe.each(dialects)('dashboard bulk jobs, charts and live tail ($name)', (dialect) => {
  let t: TestEngine;
  let ui: UiClient;
  let receiver: Receiver;
  const secret = generateWebhookSecret();
  // Ids are monotonic in a process: a clock behind the real one would stamp them with the real time.
  const clock = new FakeClock(Date.now());
  const attempt = (id: string) => t.engine.delivery.attempt(id, new AbortController().signal);
  const failing: string[] = [];

  beforeAll(async () => {
    receiver = await new Receiver([secret]).start();
    t = await openTestEngine(
      dialect,
      {
        server: { adminToken: TOKEN },
        destinations: [
          { id: 'crm-app', url: receiver.url, secrets: [secret], events: ['api.order.*'] },
          { id: 'other', url: receiver.url, secrets: [secret], events: ['api.order.*'] },
        ],
        // No retry: the first failure is final, so the deliveries are `failed` at once.
        delivery: { allowedNetworks: ['127.0.0.0/8'], retrySchedule: [] },
      },
      { clock },
    );
    ui = new UiClient(t.app);
    await ui.signIn(TOKEN);
    receiver.behaviour = (_r, res) => void res.writeHead(503).end('down');
    for (let i = 0; i < 30; i++) {
      const { id } = await t.engine.publish({ type: 'order.created', payload: { i } });
      for (const d of await t.engine.delivery.list({ eventId: id, limit: 5 })) {
        await attempt(d.id);
        if (d.destinationId === 'crm-app') failing.push(d.id);
      }
      await clock.advance(60_000);
    }
  });
  afterAll(async () => {
    await t?.close();
    await receiver.stop();
  });

  async function finished(
    location: string,
  ): Promise<{ state: string; total: number; done: number; summary: string }> {
    for (let i = 0; i < 10_000; i++) {
      const res = await ui.get(location, { accept: 'application/json' });
      const job = res.json();
      if (job.state !== 'running') return job;
      await new Promise((resolve) => setImmediate(resolve));
    }
    throw new Error('the job did not end');
  }

  it('draws the attempts of the last hours on the overview, from the store', async () => {
    const res = await ui.get('/ui/');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('aria-label="Delivery attempts: 0 succeeded, 60 failed;');
    // The 30 published and the operational events the failures announced (delivery.exhausted…).
    const stored = (await t.engine.events.browse({ limit: 1000, window: 1000 })).rows.length;
    expect(stored).toBeGreaterThan(30);
    expect(res.body).toContain(`aria-label="Events received: ${stored} events;`);
    expect(res.body).toMatch(/<rect class="bar bad"/);
  });

  it('retries every failed delivery the filter matches as a background job, to completion', async () => {
    const list = await ui.get('/ui/deliveries?status=failed&destination=crm-app');
    expect(list.body).toContain('Retry failed matching');
    const started = await ui.post('/ui/jobs', { action: 'retry', destination: 'crm-app' });
    expect(started.statusCode).toBe(303);
    const location = String(started.headers.location);
    expect(location).toMatch(/^\/ui\/jobs\/job_\w+$/);
    const job = await finished(location);
    expect(job).toMatchObject({ state: 'completed', total: 30, done: 30 });
    expect(job.summary).toBe('Done: retried 30 of 30.');
    for (const id of failing) expect((await t.engine.delivery.get(id))!.status).toBe('pending');
    // The other destination's failures were not in the filter.
    expect(
      (await t.engine.delivery.browse({ destinationId: 'other', status: 'failed', limit: 100, window: 1000 }))
        .rows,
    ).toHaveLength(30);
    const page = await ui.get(location);
    expect(page.body).toContain('Done: retried 30 of 30.');
    expect(page.body).not.toContain('http-equiv="refresh"');
    receiver.behaviour = (_r, res) => void res.writeHead(200).end('ok');
    for (const id of failing) await attempt(id);
    expect((await t.engine.delivery.get(failing[0]!))!.status).toBe('succeeded');
  });

  it('refuses a retry of a filter that asks for other than failed deliveries, and a bad filter', async () => {
    const pending = await ui.post('/ui/jobs', { action: 'retry', status: 'succeeded' });
    expect(new URL(String(pending.headers.location), 'http://x').searchParams.get('problem')).toContain(
      'Retry takes the failed deliveries',
    );
    const bad = await ui.post('/ui/jobs', { action: 'replay', http: 'teapot' });
    expect(new URL(String(bad.headers.location), 'http://x').searchParams.get('problem')).toContain(
      'http must be a status',
    );
    const forged = await ui.post('/ui/jobs', { action: 'replay' }, { csrf: false });
    expect(forged.statusCode).toBe(403);
  });

  it('streams new events to a live tail after the newest row shown, with the page filter', async () => {
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const page = await ui.get('/ui/events?type=order.*');
    const live = /data-live="([^"]+)"/.exec(page.body)![1]!.replace(/&amp;/g, '&');
    expect(live).toMatch(/^\/ui\/events\/live\?type=order\.\*&after=evt_/);
    const abort = new AbortController();
    const res = await fetch(base + live, { headers: { cookie: ui.cookie! }, signal: abort.signal });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('retry:')) text += decoder.decode((await reader.read()).value);
    const { id } = await t.engine.publish({ type: 'order.shipped', payload: { n: 'tail' } });
    await t.engine.publish({ type: 'invoice.paid', payload: { n: 'not this one' } });
    while (clock.pending === 0) await new Promise((resolve) => setImmediate(resolve));
    await clock.advance(1000);
    while (!text.includes('event: row')) text += decoder.decode((await reader.read()).value);
    expect(text).toContain(`id: ${id}\nevent: row\n`);
    expect(text).not.toContain('invoice.paid');
    abort.abort();
  });
});
