import { afterEach, describe, expect, it } from 'vitest';
import { type RunningFinaleFake, startFinaleFake } from '../../../src/connectors/finale/fake/index.js';
import {
  type FinaleApi,
  finaleConnector,
  type PurchaseOrderRecord,
  type StockRecord,
  stockId,
  type VendorRecord,
} from '../../../src/connectors/finale/index.js';
import { ConnectorClients } from '../../../src/connectors/index.js';
import { systemClock } from '../../../src/core/clock.js';
import { silentLogger } from '../../../src/core/logger.js';
import { MemoryRateLimitStore } from '../../../src/resilience/rate-limit-store.js';
import { openSyncStores } from '../../../src/store/sync/index.js';
import type { IntegrityReport } from '../../../src/sync/integrity.js';
import { writeLocal } from '../../../src/sync/local-writes.js';
import type { SyncPorts } from '../../../src/sync/ports.js';
import { allDialects, migratedDatabase } from '../../helpers/databases.js';
import { until } from '../../helpers/fixture-process.js';
import { kill, type SyncProcess, seeded, startSyncProcess } from '../../helpers/kill-loop.js';
import { openTestVault, tempDataDir } from '../../helpers/vault.js';
import { storedRecords } from '../../sync/helpers.js';
import { finaleSyncs } from './finale-syncs.js';

/**
 * The Finale done-when test: a process syncing stock, vendors and purchase orders both ways is
 * SIGKILLed at random moments — while it pushes local changes among them — and started again, while
 * Finale and the local side both change. Once the changes stop, both sides hold the same records,
 * every local stock change moved Finale's stock exactly once (a push repeated after a kill found its
 * variance), every local order exists once, and the last runs' integrity checks find the sides equal.
 * PATCHBAY_ACCEPTANCE=1 runs it at 2,000 products (4,000 stock records) instead of 150.
 */
const PRODUCTS = process.env.PATCHBAY_ACCEPTANCE === '1' ? 2000 : 150;
const ROUNDS = 3;
const LEASE_MS = 2000;
const FIXTURE = new URL('../../fixtures/finale-sync-process.ts', import.meta.url);
const UNLIMITED = { limit: 10_000_000, periodMs: 60_000 };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const processes: SyncProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const { child } of processes.splice(0)) await kill(child);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`Finale syncs killed at random moments, on ${dialect.name}`, () => {
    it(`converge on both sides with ${PRODUCTS} products after SIGKILLs while both sides change`, {
      timeout: 240_000,
    }, async () => {
      const random = seeded(21);
      const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
      const fake: RunningFinaleFake = await startFinaleFake({ limits: { GET: UNLIMITED, POST: UNLIMITED } });
      cleanups.push(() => fake.close());
      const products = Array.from({ length: PRODUCTS }, (_, i) => ({ productId: `SKU-${i + 1}` }));
      await fetch(`${fake.url}/_fake/seed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          facilities: [{ facilityName: 'Main' }, { facilityName: 'East' }],
          suppliers: Array.from({ length: 20 }, (_, i) => ({ groupName: `Supplier ${i + 1}` })),
          products,
          stock: products.flatMap((p, i) => [
            { productId: p.productId, facilityName: 'Main', quantity: 100 + i },
            { productId: p.productId, facilityName: 'East', quantity: 50 + i },
          ]),
        }),
      });
      const { database, testDb, cleanup } = await migratedDatabase(dialect);
      cleanups.push(cleanup);
      const vault = await openTestVault(database);
      await vault.connections.create({
        id: 'finale',
        provider: 'finale',
        baseUrl: fake.apiUrl,
        auth: { scheme: 'basic', username: 'fake-api-key', password: 'fake-api-secret' },
        metadata: { account: fake.account, perMinute: 10_000_000 },
      });
      const clients = new ConnectorClients({
        connections: vault.connections,
        auth: vault.resolver,
        rateLimits: new MemoryRateLimitStore(),
      });
      cleanups.push(() => clients.close());
      const finale: FinaleApi = await clients.api('finale', finaleConnector);
      const stores = openSyncStores(database);
      const ports = { stores, clock: systemClock, logger: silentLogger } as unknown as SyncPorts;
      const definitions = finaleSyncs('finale');
      const facilities = await finale.facilities.list();
      const main = facilities.find((f) => f.facilityName === 'Main')!.facilityUrl;
      const east = facilities.find((f) => f.facilityName === 'East')!.facilityUrl;
      const productUrl = (id: string) => `/${fake.account}/api/product/${encodeURIComponent(id)}`;
      const vendorIds = (await finale.partyGroups.vendors()).map((v) => v.partyId);

      // Disjoint shares so that every expected figure is exact: pairs only Finale moves, pairs only the
      // local side moves (each once), products the orders carry; vendors renamed on one side each.
      const pairs = products.flatMap((p) => [
        stockId(productUrl(p.productId), main),
        stockId(productUrl(p.productId), east),
      ]);
      const shuffled = [...pairs].sort(() => random() - 0.5);
      const localPairs = shuffled.slice(0, Math.floor(pairs.length / 3));
      const finalePairs = shuffled.slice(Math.floor(pairs.length / 3), Math.floor((2 * pairs.length) / 3));
      const expectedOnHand = new Map<string, number>();
      const seedOnHand = (id: string) => {
        const [sku, facilityId] = id.split('@') as [string, string];
        const i = Number(sku.slice(4)) - 1;
        return (main.endsWith(`/${facilityId}`) ? 100 : 50) + i;
      };
      const localVendors = vendorIds.slice(0, 10);
      const finaleVendorIds = vendorIds.slice(10);
      const expectedNames = new Map<string, string>();
      const localOrders: string[] = [];
      let changes = 0;

      const finaleChange = async () => {
        const roll = random();
        if (roll < 0.6) {
          const id = pick(finalePairs);
          const delta = 1 + Math.floor(random() * 9);
          const [sku, facilityId] = id.split('@') as [string, string];
          const facility = main.endsWith(`/${facilityId}`) ? main : east;
          await finale.inventory.adjust(facility, [{ productUrl: productUrl(sku), quantity: delta }]);
          expectedOnHand.set(id, (expectedOnHand.get(id) ?? seedOnHand(id)) + delta);
        } else {
          const partyId = pick(finaleVendorIds);
          const name = `Finale name ${Math.floor(random() * 1e6)}`;
          await finale.partyGroups.update(`/${fake.account}/api/partygroup/${partyId}`, { groupName: name });
          expectedNames.set(partyId, name);
        }
        changes++;
      };
      const localChange = async () => {
        const roll = random();
        if (roll < 0.6 && localPairs.length > 0) {
          const id = localPairs.pop()!;
          const stored = (await stores.records.get('stock', id))!;
          const record = JSON.parse(stored.data) as StockRecord;
          const onHand = record.onHand + 1 + Math.floor(random() * 20);
          await writeLocal(ports, definitions.stock, [{ data: { ...record, onHand } }]);
          expectedOnHand.set(id, onHand);
        } else if (roll < 0.8) {
          const partyId = localVendors.shift();
          if (partyId === undefined) return;
          const record = JSON.parse((await stores.records.get('vendors', partyId))!.data) as VendorRecord;
          const name = `Local name ${Math.floor(random() * 1e6)}`;
          await writeLocal(ports, definitions.vendors, [{ data: { ...record, groupName: name } }]);
          expectedNames.set(partyId, name);
        } else {
          const orderId = `LOCAL-${localOrders.length + 1}`;
          const order: PurchaseOrderRecord = {
            orderId,
            orderUrl: null,
            statusId: random() < 0.5 ? 'ORDER_LOCKED' : 'ORDER_CREATED',
            facilityUrl: main,
            supplierId: pick(vendorIds),
            items: [{ productUrl: productUrl(pick(products).productId), quantity: 5, unitPrice: 1 }],
            lastUpdatedDate: null,
          };
          await writeLocal(ports, definitions.orders, [{ data: order }]);
          localOrders.push(orderId);
        }
        changes++;
      };

      let spawned = 0;
      const start = () =>
        startSyncProcess(
          FIXTURE,
          [testDb.url, vault.key, tempDataDir(), `child-${++spawned}`, String(LEASE_MS)],
          processes,
        );
      const pending = async () =>
        (await stores.changes.count('stock', 'pending')) +
        (await stores.changes.count('vendors', 'pending')) +
        (await stores.changes.count('orders', 'pending'));

      // The first pass reads everything.
      {
        const { child, runs } = start();
        await until(
          'a first pass of the three syncs',
          () => runs().filter((r) => r.status === 'succeeded').length >= 3,
          120_000,
        );
        await kill(child);
      }
      expect(await stores.records.count('stock')).toBe(pairs.length);

      // Rounds: a process runs while both sides change; it is killed once some local changes were
      // pushed (often between a variance and the commit of its outcome), and started again.
      let kills = 0;
      let windowKills = 0;
      for (let round = 0; round < ROUNDS; round++) {
        const { child } = start();
        for (let i = 0; i < 20; i++) {
          await (i % 5 < 2 ? finaleChange() : localChange());
          await sleep(random() * 40);
        }
        // Killed as soon as Finale has a variance of a stock change whose outcome is not yet committed
        // (the push's crash window), else once some change is pushed.
        const left = await pending();
        let inWindow = false;
        await until(
          'a push under way',
          async () => {
            const open = await stores.changes.list('stock', { status: 'pending', limit: 500 });
            const ids = new Set(open.map((c) => `pb-${c.idempotencyKey}`));
            if ((await finale.inventory.variances()).some((v) => ids.has(v.physicalInventoryId))) {
              inWindow = true;
              return true;
            }
            return (await pending()) < left || left === 0;
          },
          120_000,
        );
        await kill(child);
        kills++;
        if (inWindow) windowKills++;
      }

      // Changes stop: a pass that starts after the last change, then one more (the stock read sees what
      // the order pushes of the pass before moved), levels both sides.
      const lastChange = Date.now();
      const { child, runs } = start();
      await until(
        'two passes after the last change',
        () => runs().filter((r) => r.status === 'succeeded' && r.startedAt > lastChange).length >= 6,
        120_000,
      );
      await kill(child);
      expect(runs().filter((r) => r.status === 'failed')).toEqual([]);
      // The premise: at least one kill fell between a variance and the commit of its outcome.
      expect(windowKills).toBeGreaterThan(0);
      expect(await pending()).toBe(0);
      for (const sync of ['stock', 'vendors', 'orders']) {
        expect(await stores.changes.count(sync, 'failed')).toBe(0);
      }

      // Finale: each change applied once.
      const levels = new Map(
        (await finale.inventory.stock()).map((l) => [stockId(l.productUrl, l.facilityUrl), l]),
      );
      for (const [id, onHand] of expectedOnHand)
        expect({ id, onHand: levels.get(id)?.onHand }).toEqual({ id, onHand });
      const vendorsNow = new Map((await finale.partyGroups.vendors()).map((v) => [v.partyId, v]));
      for (const [partyId, name] of expectedNames) expect(vendorsNow.get(partyId)?.groupName).toBe(name);
      const ordersNow = await finale.orders.list({ type: 'PURCHASE_ORDER' });
      expect(ordersNow.map((o) => o.orderId).sort()).toEqual([...localOrders].sort());

      // Local: the same records as Finale.
      const stock = (await storedRecords(stores, 'stock')) as Map<string, StockRecord>;
      expect([...stock.keys()].sort()).toEqual([...levels.keys()].sort());
      for (const [id, level] of levels) {
        expect(stock.get(id)).toMatchObject({ onHand: level.onHand, onOrder: level.onOrder });
      }
      const vendors = (await storedRecords(stores, 'vendors')) as Map<string, VendorRecord>;
      expect([...vendors.keys()].sort()).toEqual([...vendorsNow.keys()].sort());
      for (const [id, v] of vendorsNow) expect(vendors.get(id)?.groupName).toBe(v.groupName);
      const orders = (await storedRecords(stores, 'orders')) as Map<string, PurchaseOrderRecord>;
      for (const o of ordersNow) expect(orders.get(o.orderId)).toMatchObject({ statusId: o.statusId });

      // The last run of each sync compared the sides and found them equal.
      for (const sync of ['stock', 'vendors', 'orders']) {
        const last = (await stores.runs.recent(sync, 5)).find((r) => r.status === 'succeeded');
        expect((last!.report as { integrity: IntegrityReport }).integrity).toMatchObject({ equal: true });
      }
      console.log(
        `${dialect.name}: ${PRODUCTS} products, ${spawned} processes, ${kills} killed while pushing (${windowKills} after a variance and before its outcome was committed); ${changes} changes, ${expectedOnHand.size} stock levels exact, ${localOrders.length} local orders once`,
      );
    });
  });
}
