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
import { silentLogger } from '../../../src/core/logger.js';
import type { SyncContext, SyncDefinition } from '../../../src/sync/index.js';
import type { IntegrityReport } from '../../../src/sync/integrity.js';
import { allDialects } from '../../helpers/databases.js';
import { type SyncHarness, serviceHarness, storedRecords } from '../../sync/helpers.js';
import { type ConnectorSetup, connectorSetup } from '../github/connector-setup.js';
import { finaleSyncs } from './finale-syncs.js';

/**
 * The Finale sync models against the stateful fake, both ways: stock per product and facility,
 * vendors and purchase orders, with changes made on both sides between runs, and the integrity check
 * each run ends with.
 */
const SEED = {
  facilities: [{ facilityName: 'Main' }, { facilityName: 'East' }],
  suppliers: [{ groupName: 'Acme Supply' }, { groupName: 'Bolt Co' }],
  products: [{ productId: 'P1' }, { productId: 'P2' }, { productId: 'P3' }, { productId: 'Ocean 1' }],
  stock: [
    { productId: 'P1', facilityName: 'Main', quantity: 40 },
    { productId: 'P2', facilityName: 'East', quantity: 5 },
    { productId: 'P3', facilityName: 'Main', quantity: 12 },
    { productId: 'Ocean 1', facilityName: 'East', quantity: 3 },
  ],
};
const UNLIMITED = { limit: 1_000_000, periodMs: 60_000 };

let fake: RunningFinaleFake | undefined;
let setup: ConnectorSetup | undefined;
let harness: (SyncHarness & { service: import('../../../src/sync/sync-service.js').SyncService }) | undefined;
afterEach(async () => {
  await harness?.cleanup();
  await setup?.close();
  await fake?.close();
  harness = setup = fake = undefined;
});

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`Finale sync models on ${dialect.name}`, () => {
    async function start() {
      fake = await startFinaleFake({ limits: { GET: UNLIMITED, POST: UNLIMITED } });
      setup = await connectorSetup();
      await setup.vault.connections.create({
        id: 'stock',
        provider: 'finale',
        baseUrl: fake.apiUrl,
        auth: { scheme: 'basic', username: 'fake-api-key', password: 'fake-api-secret' },
        metadata: { account: fake.account, perMinute: 1_000_000 },
      });
      await fetch(`${fake.url}/_fake/seed`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(SEED),
      });
      const client = await setup.clients.client('stock');
      harness = await serviceHarness(dialect, { clients: { stock: client } });
      const finale: FinaleApi = await setup.clients.api('stock', finaleConnector);
      const facilities = await finale.facilities.list();
      const facility = (name: string) => facilities.find((f) => f.facilityName === name)!.facilityUrl;
      const definitions = finaleSyncs('stock');
      for (const d of Object.values(definitions)) await harness.service.define(d);
      await harness.stores.state.ensure(Object.keys(definitions), Date.now());
      const ctx: SyncContext = {
        syncId: 'stock',
        connectionId: 'stock',
        http: client,
        signal: new AbortController().signal,
        logger: silentLogger,
        now: () => Date.now(),
      };
      return { finale, facility, definitions, h: harness, ctx };
    }

    const run = async (h: SyncHarness, d: SyncDefinition, mode?: 'full') => {
      const outcome = await h.runner.run(d as SyncDefinition, { trigger: 'manual', ...(mode && { mode }) });
      if (outcome.status === 'busy') throw new Error('busy');
      expect(outcome.error?.message).toBeUndefined();
      const recorded = await h.stores.runs.get(outcome.runId);
      return { ...outcome, integrity: (recorded!.report as { integrity: IntegrityReport }).integrity };
    };

    it('converges on both sides after concurrent changes on each, and each run checks the sides equal', async () => {
      const { finale, facility, definitions, h } = await start();
      const main = facility('Main');
      const east = facility('East');
      const [acme, bolt] = await finale.partyGroups.vendors();
      const p1 = await finale.products.get('P1');
      const p2 = await finale.products.get('P2');
      await finale.orders.create({
        orderId: 'PO-1',
        orderTypeId: 'PURCHASE_ORDER',
        destinationFacilityUrl: main,
        orderRoleList: [{ roleTypeId: 'SUPPLIER', partyId: acme!.partyId }],
        orderItemList: [{ productUrl: p1.productUrl, quantity: 10, unitPrice: 2 }],
      });
      for (const d of Object.values(definitions)) {
        // The first run has no checkpoint: it reads everything.
        const first = await run(h, d);
        expect(first.integrity).toMatchObject({ equal: true, differences: [], records: { count: 0 } });
      }
      expect((await storedRecords(h.stores, 'stock')).size).toBe(4);
      expect([...(await storedRecords(h.stores, 'vendors')).keys()].sort()).toEqual(
        [acme!.partyId, bolt!.partyId].sort(),
      );

      // Finale changes: a variance at Main, Acme renamed, PO-1 locked (its items go on order).
      await finale.inventory.adjust(main, [{ productUrl: p1.productUrl, quantity: 5 }]);
      await finale.partyGroups.update(acme!.partyUrl, { groupName: 'Acme Supply Co' });
      await finale.orders.act(await finale.orders.byId('PO-1'), 'lock');
      // Local changes meanwhile: both sides move P1 at Main (local-wins: 38 it is), P2 at East and a
      // new pair; Acme disabled (another field than Finale's rename: both stand); Bolt renamed; a new
      // order, locked; PO-1's items changed although Finale has locked it.
      const stock = (await storedRecords(h.stores, 'stock')) as Map<string, StockRecord>;
      const p1Main = stock.get(stockId(p1.productUrl, main))!;
      const p2East = stock.get(stockId(p2.productUrl, east))!;
      const p2Main: StockRecord = {
        ...p2East,
        id: stockId(p2.productUrl, main),
        facilityUrl: main,
        onHand: 4,
      };
      await h.service.write('stock', [
        { data: { ...p1Main, onHand: 38 } },
        { data: { ...p2East, onHand: 9 } },
        { data: p2Main },
      ]);
      const vendors = (await storedRecords(h.stores, 'vendors')) as Map<string, VendorRecord>;
      await h.service.write('vendors', [
        { data: { ...vendors.get(acme!.partyId)!, statusId: 'PARTY_DISABLED' } },
        { data: { ...vendors.get(bolt!.partyId)!, groupName: 'Bolt & Co' } },
      ]);
      const orders = (await storedRecords(h.stores, 'orders')) as Map<string, PurchaseOrderRecord>;
      const po2: PurchaseOrderRecord = {
        orderId: 'PO-2',
        orderUrl: null,
        statusId: 'ORDER_LOCKED',
        facilityUrl: east,
        supplierId: bolt!.partyId,
        items: [{ productUrl: p2.productUrl, quantity: 6, unitPrice: 1.5 }],
        lastUpdatedDate: null,
      };
      await h.service.write('orders', [
        { data: po2 },
        {
          data: {
            ...orders.get('PO-1')!,
            items: [{ productUrl: p1.productUrl, quantity: 99, unitPrice: 2 }],
          },
        },
      ]);

      const second = {
        stock: await run(h, definitions.stock),
        vendors: await run(h, definitions.vendors),
        orders: await run(h, definitions.orders),
      };
      expect(second.stock.counts).toMatchObject({ pushed: 3, conflicts: 1 });
      expect(second.vendors.counts).toMatchObject({ pushed: 2, pushFailed: 0 });
      expect(second.orders.counts).toMatchObject({ pushed: 1, pushFailed: 1 });
      const [failed] = await h.service.changes('orders', { status: 'failed', limit: 10 });
      expect(failed?.lastError).toMatch(
        /PO-1 is ORDER_LOCKED in Finale: its facility, supplier and items cannot change/,
      );
      // PO-2 locked at Finale put 6 of P2 on order at East: the next stock run reads it from the order feed.
      const third = await run(h, definitions.stock);
      expect(third.mode).toBe('incremental');
      expect(third.integrity).toMatchObject({ equal: true });

      const levels = new Map(
        (await finale.inventory.stock()).map((l) => [stockId(l.productUrl, l.facilityUrl), l]),
      );
      expect(levels.get(stockId(p1.productUrl, main))).toMatchObject({ onHand: 38, onOrder: 10 });
      expect(levels.get(stockId(p2.productUrl, east))).toMatchObject({ onHand: 9, onOrder: 6 });
      expect(levels.get(stockId(p2.productUrl, main))).toMatchObject({ onHand: 4 });
      const storedStock = (await storedRecords(h.stores, 'stock')) as Map<string, StockRecord>;
      expect([...storedStock.keys()].sort()).toEqual([...levels.keys()].sort());
      for (const [id, level] of levels) {
        expect(storedStock.get(id)).toMatchObject({ onHand: level.onHand, onOrder: level.onOrder });
      }
      const finaleVendorsNow = await finale.partyGroups.vendors();
      expect(finaleVendorsNow.find((v) => v.partyId === acme!.partyId)).toMatchObject({
        groupName: 'Acme Supply Co',
        statusId: 'PARTY_DISABLED',
      });
      expect(finaleVendorsNow.find((v) => v.partyId === bolt!.partyId)?.groupName).toBe('Bolt & Co');
      const storedVendors = (await storedRecords(h.stores, 'vendors')) as Map<string, VendorRecord>;
      for (const v of finaleVendorsNow) {
        expect(storedVendors.get(v.partyId)).toMatchObject({ groupName: v.groupName, statusId: v.statusId });
      }
      const storedOrders = (await storedRecords(h.stores, 'orders')) as Map<string, PurchaseOrderRecord>;
      expect(storedOrders.get('PO-1')).toMatchObject({ statusId: 'ORDER_LOCKED', items: [{ quantity: 10 }] });
      expect(storedOrders.get('PO-2')).toMatchObject({
        statusId: 'ORDER_LOCKED',
        orderUrl: expect.any(String),
      });
      expect((await finale.orders.byId('PO-2')).statusId).toBe('ORDER_LOCKED');
      for (const d of [definitions.vendors, definitions.orders]) {
        expect((await run(h, d)).integrity.equal).toBe(true);
      }
    });

    it('finds a stock difference planted in Finale, reports it with the run and in health, and a full read mends it', async () => {
      const { finale, facility, definitions, h } = await start();
      await run(h, definitions.stock);
      const main = facility('Main');
      const planted = await fetch(`${fake!.url}/_fake/stock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ productId: 'P3', facilityUrl: main, delta: 7 }),
      });
      expect(planted.status).toBe(200);
      const p3 = await finale.products.get('P3');
      const found = await run(h, definitions.stock);
      expect(found.mode).toBe('incremental');
      expect(found.status).toBe('succeeded');
      const mainId = main.slice(main.lastIndexOf('/') + 1);
      expect(found.integrity).toMatchObject({
        equal: false,
        differences: [{ group: mainId, measure: 'onHand', local: 52, source: 59 }],
        records: { count: 1, ids: [stockId(p3.productUrl, main)] },
      });
      const status = await h.service.status('stock');
      expect(status.health.reasons.join('\n')).toMatch(
        /integrity check after the last successful run found 1 figure differ \(.* onHand: local 52, source 59\); 1 record differ/,
      );
      const mended = await run(h, definitions.stock, 'full');
      expect(mended.integrity.equal).toBe(true);
      expect((await h.service.status('stock')).health.reasons).toEqual([]);
    });

    it('pushes a change again after a crash before its outcome was committed, and Finale moves once', async () => {
      const { finale, facility, definitions, ctx } = await start();
      const main = facility('Main');
      const p3 = await finale.products.get('P3');
      const id = stockId(p3.productUrl, main);
      const base = (await finale.inventory.stock()).find(
        (l) => l.productUrl === p3.productUrl && l.facilityUrl === main,
      )!;
      const record: StockRecord = {
        id,
        productId: 'P3',
        productUrl: p3.productUrl,
        facilityUrl: main,
        onHand: base.onHand,
        onOrder: 0,
        reserved: 0,
      };
      const change = {
        id,
        base: record,
        data: { ...record, onHand: 20 },
        changedFields: ['onHand'],
        idempotencyKey: 'lw_crash1',
      };
      // The same change twice, as the push after a restart sends it: one variance, stock moved once.
      for (let i = 0; i < 2; i++) {
        const [outcome] = await definitions.stock.push!(ctx, [change]);
        expect(outcome).toMatchObject({ id, ok: true, record: { onHand: 20 } });
      }
      expect((await finale.inventory.variances()).map((v) => v.physicalInventoryId)).toEqual([
        'pb-lw_crash1',
      ]);
      // A new order pushed twice is created once, and locked once.
      const [vendor] = await finale.partyGroups.vendors();
      const order: PurchaseOrderRecord = {
        orderId: 'PO-CRASH',
        orderUrl: null,
        statusId: 'ORDER_LOCKED',
        facilityUrl: main,
        supplierId: vendor!.partyId,
        items: [{ productUrl: p3.productUrl, quantity: 4, unitPrice: 1 }],
        lastUpdatedDate: null,
      };
      const create = {
        id: 'PO-CRASH',
        base: undefined,
        data: order,
        changedFields: [],
        idempotencyKey: 'lw_crash2',
      };
      for (let i = 0; i < 2; i++) {
        const [outcome] = await definitions.orders.push!(ctx, [create]);
        expect(outcome).toMatchObject({
          ok: true,
          record: { orderId: 'PO-CRASH', statusId: 'ORDER_LOCKED' },
        });
      }
      const level = (await finale.inventory.stock()).find(
        (l) => l.productUrl === p3.productUrl && l.facilityUrl === main,
      );
      expect(level).toMatchObject({ onHand: 20, onOrder: 4 });
    });
  });
}
