import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import { fetchToken, graphFetch, type Json, NotificationReceiver, startFake } from './helpers.js';

let fake: RunningMsGraphFake;
let token: string;
let receiver: NotificationReceiver;
beforeEach(async () => {
  fake = await startFake({ https: false, allowHttpNotificationUrls: true });
  token = await fetchToken(fake);
  receiver = await new NotificationReceiver().start();
});
afterEach(async () => {
  await fake.close();
  await receiver.stop();
});

const HOUR = 3_600_000;
const call = (path: string, init?: Parameters<typeof graphFetch>[3]) => graphFetch(fake, token, path, init);
const inFuture = (ms: number) => new Date(fake.clock.now() + ms).toISOString();
const subscribe = (overrides: Record<string, unknown> = {}) =>
  call('/v1.0/subscriptions', {
    method: 'POST',
    body: {
      changeType: 'created,updated,deleted',
      notificationUrl: `${receiver.url}/notify?source=mail`,
      lifecycleNotificationUrl: `${receiver.url}/lifecycle`,
      resource: "users/adele@contoso.test/mailFolders('inbox')/messages",
      expirationDateTime: inFuture(2 * HOUR),
      clientState: 'secret-state',
      ...overrides,
    },
  });

describe('Graph fake: subscriptions', () => {
  it('validates both URLs with a POSTed token, then answers 201', async () => {
    const created = await subscribe();
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({
      resource: "users/adele@contoso.test/mailFolders('inbox')/messages",
      changeType: 'created,updated,deleted',
      applicationId: fake.app.clientId,
      clientState: 'secret-state',
    });
    expect(created.body.expirationDateTime).toMatch(/\.\d{7}Z$/);
    expect(receiver.validations).toEqual(['/notify', '/lifecycle']);
  });

  it('fails creation with 400 when an endpoint does not echo the token as text/plain', async () => {
    for (const mode of ['no-echo', 'wrong-type', 'fail'] as const) {
      receiver.mode = mode;
      const refused = await subscribe();
      expect(refused.status).toBe(400);
      expect(refused.body.error).toMatchObject({
        code: 'InvalidRequest',
        message:
          'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
      });
    }
    expect(fake.graph.subscriptions.list()).toHaveLength(0);
  });

  it('gives up on a validation that takes longer than the timeout', async () => {
    await fetch(`${fake.url}/_fake/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ validationTimeoutMs: 200 }),
    });
    const slow = await subscribe({ notificationUrl: 'http://10.255.255.1/never' });
    expect(slow.status).toBe(400);
  });

  it('refuses expirations past the maximum, http URLs by default, and a long clientState', async () => {
    const tooFar = await subscribe({ expirationDateTime: inFuture(4231 * 60_000) });
    expect(tooFar.body.error.message).toBe('Subscription expiration can only be 4230 minutes in the future.');
    expect((await subscribe({ expirationDateTime: inFuture(4229 * 60_000) })).status).toBe(201);
    expect((await subscribe({ clientState: 'x'.repeat(129) })).status).toBe(400);
    expect((await subscribe({ resource: 'me/messages' })).status).toBe(400);
    const strict = await startFake({ https: false });
    try {
      const t = await fetchToken(strict);
      const http = await graphFetch(strict, t, '/v1.0/subscriptions', {
        method: 'POST',
        body: {
          changeType: 'created',
          notificationUrl: `${receiver.url}/notify`,
          resource: 'users/adele@contoso.test/messages',
          expirationDateTime: new Date(Date.now() + HOUR).toISOString(),
        },
      });
      expect(http.status).toBe(400);
      expect(http.body.error.message).toContain('https');
    } finally {
      await strict.close();
    }
  });

  it('notifies changes with clientState and Users/…/Messages/… resources, one POST for one tick', async () => {
    const { body: sub } = await subscribe();
    const [m] = fake.graph.control.deliver('adele@contoso.test', { count: 2 });
    const [post] = await receiver.waitFor('/notify');
    expect(post!.body.value).toHaveLength(2);
    const first = post!.body.value[0];
    expect(first).toMatchObject({
      subscriptionId: sub.id,
      changeType: 'created',
      clientState: 'secret-state',
      tenantId: fake.app.tenantId,
      resource: `Users/${fake.graph.directory.user('adele@contoso.test')!.user.id}/Messages/${m!.id}`,
      resourceData: { '@odata.type': '#Microsoft.Graph.Message', id: m!.id },
    });
    fake.graph.control.change(m!.id, { isRead: true });
    fake.graph.control.move(m!.id, 'archive');
    const posts = await receiver.waitFor('/notify', 2);
    expect(posts[1]!.body.value.map((n: Json) => n.changeType)).toEqual(['updated', 'deleted']);
  });

  it('renews by PATCH; refuses to add a lifecycle URL by PATCH; expires silently at its time', async () => {
    const { body: plain } = await subscribe({ lifecycleNotificationUrl: undefined });
    const added = await call(`/v1.0/subscriptions/${plain.id}`, {
      method: 'PATCH',
      body: { lifecycleNotificationUrl: `${receiver.url}/lifecycle` },
    });
    expect(added.status).toBe(400);
    expect(added.body.error.message).toContain('cannot be added to an existing subscription');
    const renewed = await call(`/v1.0/subscriptions/${plain.id}`, {
      method: 'PATCH',
      body: { expirationDateTime: inFuture(3 * HOUR) },
    });
    expect(renewed.status).toBe(200);
    fake.clock.advance(2.5 * HOUR);
    token = await fetchToken(fake); // the first one expired an hour in
    expect((await call(`/v1.0/subscriptions/${plain.id}`)).status).toBe(200);
    fake.clock.advance(HOUR);
    token = await fetchToken(fake);
    expect((await call(`/v1.0/subscriptions/${plain.id}`)).status).toBe(404);
    expect(receiver.received.filter((r) => r.path === '/lifecycle')).toHaveLength(0);
  });

  it('retries failed notifications on its clock for up to 4 hours, then drops them and sends missed', async () => {
    await subscribe({ expirationDateTime: inFuture(48 * HOUR) });
    receiver.mode = 'fail';
    fake.graph.control.deliver('adele@contoso.test', { count: 1 });
    await receiver.waitFor('/notify', 1);
    fake.clock.advance(30_000);
    await receiver.waitFor('/notify', 2);
    for (let hour = 0; hour < 5; hour++) {
      fake.clock.advance(HOUR);
      await new Promise((r) => setTimeout(r, 100));
    }
    const attempts = receiver.received.filter((r) => r.path === '/notify').length;
    expect(attempts).toBeGreaterThan(5);
    const deliveries = ((await (await fetch(`${fake.url}/_fake/notifications`)).json()) as Json).deliveries;
    expect(deliveries[0]).toMatchObject({ kind: 'change', state: 'dropped' });
    const [missed] = await receiver.waitFor('/lifecycle');
    expect(missed!.body.value[0]).toMatchObject({ lifecycleEvent: 'missed', clientState: 'secret-state' });
    fake.clock.advance(HOUR);
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received.filter((r) => r.path === '/notify').length).toBe(attempts);
  });

  it('sends lifecycle events on demand; subscriptionRemoved removes the subscription', async () => {
    const { body: sub } = await subscribe();
    for (const event of ['reauthorizationRequired', 'missed', 'subscriptionRemoved']) {
      const sent = await fetch(`${fake.url}/_fake/subscriptions/${sub.id}/lifecycle`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ event }),
      });
      expect(sent.status).toBe(200);
    }
    const posts = await receiver.waitFor('/lifecycle', 3);
    expect(posts.map((p) => p.body.value[0].lifecycleEvent)).toEqual([
      'reauthorizationRequired',
      'missed',
      'subscriptionRemoved',
    ]);
    expect((await call(`/v1.0/subscriptions/${sub.id}`)).status).toBe(404);
  });

  it('challenges for reauthorization when configured, pauses notifications past the deadline, resumes on reauthorize', async () => {
    await fetch(`${fake.url}/_fake/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reauthorizationIntervalMs: 2 * HOUR }),
    });
    const { body: sub } = await subscribe({ expirationDateTime: inFuture(24 * HOUR) });
    fake.clock.advance(HOUR + 1000);
    const [challenge] = await receiver.waitFor('/lifecycle');
    expect(challenge!.body.value[0].lifecycleEvent).toBe('reauthorizationRequired');
    fake.clock.advance(HOUR);
    fake.graph.control.deliver('adele@contoso.test', { count: 1 }); // lost: paused
    await new Promise((r) => setTimeout(r, 100));
    expect(receiver.received.filter((r) => r.path === '/notify')).toHaveLength(0);
    token = await fetchToken(fake);
    expect((await call(`/v1.0/subscriptions/${sub.id}/reauthorize`, { method: 'POST' })).status).toBe(204);
    fake.graph.control.deliver('adele@contoso.test', { count: 1 });
    await receiver.waitFor('/notify');
  });

  it('lists and deletes an app’s subscriptions', async () => {
    const { body: sub } = await subscribe();
    expect((await call('/v1.0/subscriptions')).body.value.map((s: Json) => s.id)).toEqual([sub.id]);
    expect((await call(`/v1.0/subscriptions/${sub.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await call('/v1.0/subscriptions')).body.value).toEqual([]);
  });
});
