import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectorClients } from '../../../src/connectors/index.js';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import {
  MsGraphSubscriptions,
  type SubscriptionManagerOptions,
} from '../../../src/connectors/msgraph/subscription-manager.js';
import { SqlRateLimitStore } from '../../../src/store/limits/index.js';
import { FakeClock } from '../../../src/testing/index.js';
import { dialects } from '../../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../../helpers/engine.js';
import { graphConnection } from './connection.js';
import { type Json, startFake } from './helpers.js';

const ADELE = 'adele@contoso.test';
const CLIENT_STATE = 'a-secret-graph-repeats-in-every-notification';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let fake: RunningMsGraphFake;
let t: TestEngine;
let clients: ConnectorClients;
let clock: FakeClock;
let notificationUrl: string;
let runs: Array<{ syncId: string; at: number; reason: string }>;
/** Which manager the source's events go to (a restart swaps it). */
let current: MsGraphSubscriptions | undefined;

beforeEach(async () => {
  fake = await startFake({ https: false, allowHttpNotificationUrls: true });
  t = await openTestEngine(dialects[0]!, {
    sources: [{ id: 'graph', verify: { scheme: 'msgraph', secrets: [CLIENT_STATE] } }],
    connections: [graphConnection(fake) as never],
    vault: { allowInsecureLoopback: true },
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  notificationUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}/webhooks/graph`;
  await t.engine.on('graph.**', async (event) => current?.handle(event.type, event.payload), {
    id: 'graph-subscriptions',
  });
  await t.engine.startWorkers();
  clients = t.engine.modules.find((m) => m.name === 'connections')!.service as ConnectorClients;
  clock = new FakeClock(fake.clock.now());
  runs = [];
  current = undefined;
});
afterEach(async () => {
  await t?.close();
  await fake?.close();
});

function manager(overrides: Partial<SubscriptionManagerOptions> = {}): MsGraphSubscriptions {
  return new MsGraphSubscriptions({
    client: () => clients.client('mail'),
    connectionId: 'mail',
    clock,
    // The engine's store: each manager gets its own instance, as each process would.
    limits: new SqlRateLimitStore(t.db),
    notificationUrl,
    clientState: CLIENT_STATE,
    folders: [
      { mailbox: ADELE, folder: 'inbox', syncId: 'inbox' },
      { mailbox: ADELE, folder: 'archive', syncId: 'archive' },
    ],
    requestRun: async (syncId, at, reason) => void runs.push({ syncId, at, reason }),
    ...overrides,
  });
}

const atFake = async (): Promise<Json[]> =>
  ((await (await fetch(`${fake.url}/_fake/subscriptions`)).json()) as Json).subscriptions;
const counters = async (): Promise<Record<string, number>> =>
  ((await (await fetch(`${fake.url}/_fake/stats`)).json()) as Json).counters;
const lifecycle = (id: string, event: string) =>
  fetch(`${fake.url}/_fake/subscriptions/${id}/lifecycle`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ event }),
  });
/** Both sides' clocks move together: the fake's (subscriptions expire on it) and Patchbay's. */
function advance(ms: number): void {
  clock.advance(ms);
  fake.clock.advance(ms);
}
async function until(what: string, test: () => boolean | Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('MsGraphSubscriptions', { timeout: 120_000 }, () => {
  it('creates one per folder through the source’s handshake, and a change requests a debounced run', async () => {
    current = manager();
    expect(await current.reconcile()).toMatchObject({ ran: true, created: 2, renewed: 0 });
    const subs = await atFake();
    expect(subs.map((s) => s.resource).sort()).toEqual([
      `users/${ADELE}/mailFolders('archive')/messages`,
      `users/${ADELE}/mailFolders('inbox')/messages`,
    ]);
    expect(subs.every((s) => s.notificationUrl === notificationUrl && s.lifecycleNotificationUrl)).toBe(true);
    // Each creation asks for a run: changes made before it were notified to nobody.
    expect(runs.map((r) => r.syncId).sort()).toEqual(['archive', 'inbox']);
    runs.length = 0;

    fake.graph.control.deliver(ADELE, { count: 3 });
    await until('the notifications to reach the engine and the manager', () => runs.length > 0);
    await until(
      'the three events',
      async () => (await t.engine.events.list({ source: 'graph', limit: 10 })).length >= 3,
    );
    expect(runs).toEqual([{ syncId: 'inbox', at: clock.now() + 2_000, reason: 'notified: created' }]);
    expect(current.subscriptions().every((s) => s.problem === null && s.expiresAt! > clock.now())).toBe(true);
  });

  it('keeps them alive for 30 days of both clocks, across a restart and with two processes (one renews)', async () => {
    current = manager();
    await current.reconcile();
    let second: MsGraphSubscriptions | undefined;
    let lapses = 0;
    let notified = 0;
    for (let hour = 2; hour <= 30 * 24; hour += 2) {
      advance(2 * HOUR);
      if (hour === 10 * 24) current = manager(); // a restart: nothing kept in memory
      if (hour === 20 * 24) second = manager(); // a second process
      await Promise.all([current.reconcile(), second?.reconcile()]);
      const live = (await atFake()).filter((s) => Date.parse(s.expirationDateTime) > fake.clock.now());
      if (live.length !== 2) lapses++;
      if (hour % 24 === 0) {
        // A message a day: its notification arrives, whichever manager is current.
        runs.length = 0;
        fake.graph.control.deliver(ADELE, { message: { subject: `Day ${hour / 24}` } });
        await until(`day ${hour / 24}'s notification`, () => runs.some((r) => r.syncId === 'inbox'));
        notified++;
      }
    }
    expect(lapses).toBe(0);
    expect(notified).toBe(30);
    const stats = await counters();
    expect(stats['subscriptions:expired'] ?? 0).toBe(0);
    // Two created at the start and never again; each renewed once half its 4,215 minutes had gone.
    expect(await atFake()).toHaveLength(2);
    expect(stats['subscriptions:created']).toBe(2);
    const renewals = stats['subscriptions:renewed'] ?? 0;
    const expected = Math.floor((30 * DAY) / ((4230 - 15) * 60_000 * 0.5));
    expect(renewals).toBeGreaterThanOrEqual(2 * (expected - 1));
    expect(renewals).toBeLessThanOrEqual(2 * (expected + 1));
  });

  it('handles each lifecycle event: reauthorize, recreate after removal, run after missed', async () => {
    current = manager();
    await current.reconcile();
    runs.length = 0;
    const inbox = (await atFake()).find((s) => s.resource.includes("'inbox'"))!;

    advance(HOUR);
    await lifecycle(inbox.id, 'reauthorizationRequired');
    await until('the reauthorization', async () => {
      const now = (await atFake()).find((s) => s.id === inbox.id);
      return now !== undefined && now.authorizedAt !== inbox.authorizedAt;
    });

    await lifecycle(inbox.id, 'missed');
    await until('the run after missed', () => runs.some((r) => r.reason === 'lifecycle: missed'));
    expect(runs.find((r) => r.reason === 'lifecycle: missed')).toMatchObject({
      syncId: 'inbox',
      at: clock.now(),
    });

    await lifecycle(inbox.id, 'subscriptionRemoved');
    await until('a new inbox subscription', async () => {
      const now = await atFake();
      return now.length === 2 && !now.some((s) => s.id === inbox.id);
    });
    expect(runs.some((r) => r.syncId === 'inbox' && r.reason === 'subscription created')).toBe(true);
  });

  it('recreates a subscription that lapsed, and says why a folder has none when creation fails', async () => {
    current = manager();
    await current.reconcile();
    advance(4230 * 60_000); // past the expiry, nobody renewing: the fake drops them silently
    expect(await atFake()).toHaveLength(0);
    runs.length = 0;
    expect(await current.reconcile()).toMatchObject({ created: 2 });
    expect(runs.map((r) => r.reason)).toEqual(['subscription created', 'subscription created']);

    const broken = manager({
      notificationUrl: `${notificationUrl.replace('/webhooks/graph', '/webhooks/nowhere')}`,
    });
    expect(await broken.reconcile()).toMatchObject({ failed: 2 });
    const [status] = broken.subscriptions();
    expect(status).toMatchObject({ subscriptionId: null });
    expect(status!.problem).toMatch(/validation/i);
  });
});
