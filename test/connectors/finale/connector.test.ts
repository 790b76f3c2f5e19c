import { afterEach, describe, expect, it } from 'vitest';
import { type RunningFinaleFake, startFinaleFake } from '../../../src/connectors/finale/fake/index.js';
import { type FinaleApi, finaleConnector, fromColumns } from '../../../src/connectors/finale/index.js';
import { ErrorCode } from '../../../src/core/errors.js';
import { rejection } from '../../http/helpers.js';
import { type ConnectorSetup, connectorSetup } from '../github/connector-setup.js';

let fake: RunningFinaleFake;
let setup: ConnectorSetup;
let finale: FinaleApi;

async function start(seed: unknown = {}) {
  fake = await startFinaleFake();
  fake.clock.freeze();
  setup = await connectorSetup({ start: fake.clock.now() });
  await setup.vault.connections.create({
    id: 'stock',
    provider: 'finale',
    baseUrl: `${fake.url}/${fake.account}/api`,
    auth: { scheme: 'basic', username: 'fake-api-key', password: 'fake-api-secret' },
    metadata: { account: fake.account },
  });
  await fetch(`${fake.url}/_fake/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(seed),
  });
  finale = await setup.clients.api('stock', finaleConnector);
}
afterEach(async () => {
  await setup?.close();
  await fake?.close();
});
const requests = async () =>
  ((await (await fetch(`${fake.url}/_fake/stats`)).json()) as { counters: Record<string, number> }).counters
    .requests ?? 0;

const SEED = {
  facilities: [{ facilityName: 'Main' }, { facilityName: 'East' }],
  suppliers: [{ groupName: 'Acme Supply' }],
  products: [{ productId: 'BP2905', internalName: 'Bolt pack' }, { productId: 'Ocean 1' }],
  stock: [
    { productId: 'BP2905', facilityName: 'Main', quantity: 40 },
    { productId: 'BP2905', facilityName: 'East', quantity: 5 },
    { productId: 'Ocean 1', facilityName: 'Main', quantity: 12 },
  ],
};

describe('a connection with provider: finale', () => {
  it('reads products, facilities, vendors and stock per facility from column-major lists', async () => {
    await start(SEED);
    expect((await finale.products.list()).map((p) => p.productId).sort()).toEqual(['BP2905', 'Ocean 1']);
    expect((await finale.products.get('Ocean 1')).productUrl).toBe(`/${fake.account}/api/product/Ocean%201`);
    const facilities = await finale.facilities.list();
    // Every account starts with its Main Warehouse.
    expect(facilities.map((f) => f.facilityName).sort()).toEqual(['East', 'Main', 'Main Warehouse']);
    const vendors = await finale.partyGroups.vendors();
    expect(vendors.map((v) => v.groupName)).toEqual(['Acme Supply']);
    // The account's own company is a party group too, not a vendor.
    expect((await finale.partyGroups.list()).some((p) => p.partyId === 'PRIMARY')).toBe(true);
    const main = facilities.find((f) => f.facilityName === 'Main')!.facilityUrl;
    const stock = await finale.inventory.stock();
    expect(stock.find((s) => s.productId === 'BP2905' && s.facilityUrl === main)).toMatchObject({
      onHand: 40,
    });
    expect(stock.filter((s) => s.productId === 'BP2905').reduce((n, s) => n + s.onHand, 0)).toBe(45);
  });

  it('takes a purchase order through lock and completion: stock on order, then on hand', async () => {
    await start(SEED);
    const [vendor] = await finale.partyGroups.vendors();
    const main = (await finale.facilities.list()).find((f) => f.facilityName === 'Main')!.facilityUrl;
    const bolt = await finale.products.get('BP2905');
    const order = await finale.orders.create({
      orderId: 'PO-1001',
      orderTypeId: 'PURCHASE_ORDER',
      destinationFacilityUrl: main,
      orderRoleList: [{ roleTypeId: 'SUPPLIER', partyId: vendor!.partyId }],
      orderItemList: [{ productUrl: bolt.productUrl, quantity: 10, unitPrice: 2.5 }],
    });
    expect(order).toMatchObject({ statusId: 'ORDER_CREATED' });
    const locked = await finale.orders.act(order, 'lock');
    const level = async () =>
      (await finale.inventory.stock()).find((s) => s.productId === 'BP2905' && s.facilityUrl === main)!;
    expect(await level()).toMatchObject({ onHand: 40, onOrder: 10 });
    const done = await finale.orders.act(locked, 'complete');
    expect(done.statusId).toBe('ORDER_COMPLETED');
    expect(await level()).toMatchObject({ onHand: 50, onOrder: 0 });
    // A completed order offers no action: refused before sending, naming its status.
    const again = await rejection(finale.orders.act(done, 'cancel'));
    expect(again).toMatchObject({ code: ErrorCode.INVALID_ARGUMENT });
    expect(again.message).toMatch(/PO-1001 is ORDER_COMPLETED: Finale offers no cancel action/);
    const edit = await rejection(finale.orders.update(done.orderUrl, { orderItemList: [] }));
    expect(edit).toMatchObject({ status: 400, classification: 'permanent' });
    expect(edit.message).toMatch(/cannot be edited/);
    expect((await finale.orders.list({ type: 'PURCHASE_ORDER' })).map((o) => o.orderId)).toEqual(['PO-1001']);
  });

  it('moves stock by a committed variance', async () => {
    await start(SEED);
    const east = (await finale.facilities.list()).find((f) => f.facilityName === 'East')!.facilityUrl;
    const bolt = await finale.products.get('BP2905');
    const variance = await finale.inventory.adjust(east, [{ productUrl: bolt.productUrl, quantity: -3 }]);
    expect(variance.statusId).not.toBe('PHSCL_INV_INPUT');
    const level = (await finale.inventory.stock()).find(
      (s) => s.productId === 'BP2905' && s.facilityUrl === east,
    );
    expect(level?.onHand).toBe(2);
  });

  it('reads the lastUpdatedDate change feed in windows of at most 30 days, each entity once', async () => {
    await start(SEED);
    const now = fake.clock.now();
    await finale.products.update('BP2905', { internalName: 'Bolt pack (new)' });
    const before = await requests();
    const changed = await finale.products.list({ updatedSince: now - 45 * 24 * 3_600_000 });
    expect(await requests()).toBe(before + 2);
    expect(changed.filter((p) => p.productId === 'BP2905')).toHaveLength(1);
    expect(changed.find((p) => p.productId === 'BP2905')?.internalName).toBe('Bolt pack (new)');
  });

  it('reads Finale’s error bodies, and refuses a URL outside the account', async () => {
    await start(SEED);
    const taken = await rejection(finale.products.create({ productId: 'BP2905' }));
    expect(taken).toMatchObject({ status: 409, classification: 'permanent' });
    expect(taken.message).toMatch(/product BP2905 already exists/);
    await expect(finale.orders.get('/other/api/order/1')).rejects.toThrow(/starts with \/demo\/api\//);
  });
});

describe('fromColumns', () => {
  it('turns columns into rows and refuses columns of unequal length', () => {
    expect(fromColumns({ productId: ['A', 'B'], productUrl: ['/a', '/b'] }, 'product')).toEqual([
      { productId: 'A', productUrl: '/a' },
      { productId: 'B', productUrl: '/b' },
    ]);
    expect(fromColumns({}, 'product')).toEqual([]);
    expect(() => fromColumns({ productId: ['A', 'B'], productUrl: ['/a'] }, 'product')).toThrow(
      /column "productUrl" of another length/,
    );
    expect(() => fromColumns([], 'product')).toThrow(/not an object of columns/);
  });
});
