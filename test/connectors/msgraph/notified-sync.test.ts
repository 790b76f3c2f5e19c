import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConnectorClients } from '../../../src/connectors/index.js';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import { MsGraphSubscriptions } from '../../../src/connectors/msgraph/subscription-manager.js';
import { SqlRateLimitStore } from '../../../src/store/limits/index.js';
import { openSyncStores, type SyncStores } from '../../../src/store/sync/index.js';
import { dialects } from '../../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../../helpers/engine.js';
import { graphConnection } from './connection.js';
import { type Json, startFake } from './helpers.js';

/**
 * Notifications to syncs, end to end: a listening engine with an msgraph source and two
 * msgraph.messages syncs; the manager subscribes the folders and turns the source's events into
 * requested runs. Mail created, changed, moved and deleted at the fake reaches the store within seconds.
 */
const ADELE = 'adele@contoso.test';
const CLIENT_STATE = 'notified-sync-client-state';
const FOLDERS = ['inbox', 'archive'];

let fake: RunningMsGraphFake;
let t: TestEngine;
let stores: SyncStores;
let manager: MsGraphSubscriptions;

beforeEach(async () => {
  fake = await startFake({ https: false, allowHttpNotificationUrls: true });
  t = await openTestEngine(dialects[0]!, {
    sources: [{ id: 'graph', verify: { scheme: 'msgraph', secrets: [CLIENT_STATE] } }],
    connections: [graphConnection(fake) as never],
    vault: { allowInsecureLoopback: true },
    syncs: FOLDERS.map((folder) => ({
      id: folder,
      connection: 'mail',
      model: 'msgraph.messages',
      options: { mailbox: ADELE, folder },
    })) as never,
    syncRuns: { pollInterval: 200 },
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  const port = (t.app.server.address() as AddressInfo).port;
  const clients = t.engine.modules.find((m) => m.name === 'connections')!.service as ConnectorClients;
  manager = new MsGraphSubscriptions({
    client: () => clients.client('mail'),
    connectionId: 'mail',
    clock: t.engine.clock,
    limits: new SqlRateLimitStore(t.db),
    notificationUrl: `http://127.0.0.1:${port}/webhooks/graph`,
    clientState: CLIENT_STATE,
    folders: FOLDERS.map((folder) => ({ mailbox: ADELE, folder, syncId: folder })),
    debounceMs: 500,
    requestRun: async (syncId, at) => t.engine.syncs.request(syncId, { trigger: 'event', at }),
  });
  await t.engine.on('graph.**', (event) => manager.handle(event.type, event.payload), { id: 'graph-subs' });
  await t.engine.startWorkers();
  stores = openSyncStores(t.db);
});
afterEach(async () => {
  await manager?.stop();
  await t?.close();
  await fake?.close();
});

async function equal(folder: string): Promise<boolean> {
  const rows = await stores.records.list(folder, { limit: 10_000 });
  const stored = new Map(rows.map((r) => [r.id, JSON.parse(r.data) as Json]));
  const truth = fake.graph.control.snapshot(ADELE, folder) as Json[];
  return (
    stored.size === truth.length &&
    truth.every((m) => stored.get(m.id)?.subject === m.subject && stored.get(m.id)?.isRead === m.isRead)
  );
}
async function until(what: string, test: () => Promise<boolean>, ms = 30_000): Promise<number> {
  const started = Date.now();
  while (!(await test())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

describe('Graph notifications drive the folder syncs', { timeout: 120_000 }, () => {
  it('created, changed, moved and deleted mail reaches the store within seconds', async () => {
    manager.start();
    // Each subscription's creation requests a first run of its folder.
    await until('the first syncs', async () => (await equal('inbox')) && (await equal('archive')));
    const [a, b, c] = fake.graph.control.snapshot(ADELE, 'inbox') as Json[];

    const steps: [string, () => void][] = [
      ['created', () => void fake.graph.control.deliver(ADELE, { message: { subject: 'Notified' } })],
      ['changed', () => void fake.graph.control.change(a.id, { subject: 'Changed', isRead: true })],
      ['moved', () => void fake.graph.control.move(b.id, 'archive')],
      ['deleted', () => fake.graph.control.remove(c.id)],
    ];
    const took: Record<string, number> = {};
    for (const [what, act] of steps) {
      act();
      took[what] = await until(
        `the ${what} message in the store`,
        async () => (await equal('inbox')) && (await equal('archive')),
      );
    }
    console.log(`notified changes in the store after (ms): ${JSON.stringify(took)}`);
    for (const ms of Object.values(took)) expect(ms).toBeLessThan(10_000);
    const runs = await stores.runs.list('inbox', { limit: 20 });
    expect(runs.filter((r) => r.trigger === 'event').length).toBeGreaterThanOrEqual(3);
  });
});
