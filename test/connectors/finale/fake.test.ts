import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningFinaleFake, startFinaleFake } from '../../../src/connectors/finale/fake/index.js';

let fake: RunningFinaleFake;
const BASIC = `Basic ${Buffer.from('fake-api-key:fake-api-secret').toString('base64')}`;

/** Plain HTTP, as Finale's docs describe the API: Basic auth, JSON bodies, POST for every write. */
async function api<T = Record<string, unknown>>(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: T; headers: Headers }> {
  const url =
    path.startsWith('/') && !path.startsWith(`/${fake.account}/`)
      ? `${fake.apiUrl}${path}`
      : `${fake.url}${path}`;
  const response = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { authorization: BASIC, 'content-type': 'application/json', ...init.headers },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const text = await response.text();
  return {
    status: response.status,
    body: (text ? JSON.parse(text) : undefined) as T,
    headers: response.headers,
  };
}

const filter = (value: unknown, padded = true) => {
  const encoded = Buffer.from(JSON.stringify(value)).toString('base64');
  return encodeURIComponent(padded ? encoded : encoded.replace(/=+$/, ''));
};

async function mainWarehouse(): Promise<string> {
  const { body } = await api<{ facilityUrl: string[]; facilityName: string[] }>('/facility');
  return body.facilityUrl[body.facilityName.indexOf('Main Warehouse')]!;
}

type StockColumns = Record<'quantityOnHand' | 'quantityOnOrder' | 'quantityReserved', number[]> & {
  productId: string[];
  facilityUrl: string[];
  orderUrl: (string | null)[];
};

beforeEach(async () => {
  fake = await startFinaleFake();
});
afterEach(async () => {
  await fake.close();
});

describe('Finale fake: auth', () => {
  it('takes Basic auth with the listed key and secret, and refuses a wrong secret or none', async () => {
    const described = (await (await fetch(`${fake.url}/_fake`)).json()) as { basicAuth: { key: string } };
    expect(described.basicAuth.key).toBe('fake-api-key');
    expect((await api('/product')).status).toBe(200);
    const wrong = `Basic ${Buffer.from('fake-api-key:nope').toString('base64')}`;
    expect((await api('/product', { headers: { authorization: wrong } })).status).toBe(401);
    expect((await api('/product', { headers: { authorization: '' } })).status).toBe(401);
  });

  it('logs in a session: JSESSIONID cookie, collection URLs, and the sessionSecret every POST must carry', async () => {
    const login = await fetch(`${fake.apiUrl}/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'fake-user', password: 'fake-password' }),
    });
    expect(login.status).toBe(200);
    const session = /JSESSIONID=([^;]+)/.exec(login.headers.get('set-cookie')!)![1]!;
    const answer = (await login.json()) as { sessionSecret: string; resourceProduct: string };
    expect(answer.resourceProduct).toBe('/demo/api/product');
    const cookie = { authorization: '', cookie: `ACCOUNT=demo; JSESSIONID=${session}` };
    expect((await api('/product', { headers: cookie })).status).toBe(200);
    const csrf = await api('/product', { headers: cookie, body: { productId: 'A1' } });
    expect(csrf.status).toBe(403);
    const made = await api('/product', {
      headers: cookie,
      body: { productId: 'A1', sessionSecret: answer.sessionSecret },
    });
    expect(made.status).toBe(200);
    expect(made.body.sessionSecret).toBeUndefined();
    await fetch(`${fake.url}/_fake/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceMs: 31 * 60_000 }),
    });
    expect((await api('/product', { headers: cookie })).status).toBe(401);
    const bad = await fetch(`${fake.apiUrl}/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'fake-user', password: 'wrong' }),
    });
    expect(bad.status).toBe(401);
  });
});

describe('Finale fake: resources', () => {
  it('uses URL paths as ids, POST to create and to update, and no PUT', async () => {
    const created = await api('/product', { body: { productId: 'Ocean 1', internalName: 'Ocean blue' } });
    expect(created.body.productUrl).toBe('/demo/api/product/Ocean%201');
    expect(created.body.lastUpdatedDate).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
    const read = await api(created.body.productUrl as string);
    expect(read.body.internalName).toBe('Ocean blue');
    const updated = await api(created.body.productUrl as string, { body: { internalName: 'Deep ocean' } });
    expect(updated.body.internalName).toBe('Deep ocean');
    expect((await api(created.body.productUrl as string, { method: 'PUT', body: {} })).status).toBe(404);
    expect((await api('/product', { body: { productId: 'Ocean 1' } })).status).toBe(409);
  });

  it('lists column-major: one array per field, equal lengths, null where a value is missing', async () => {
    await api('/product', { body: { productId: 'A' } });
    await api('/product', { body: { productId: 'B', normalizedPackingString: '12 ea' } });
    const { body } = await api<Record<string, unknown[]>>('/product');
    expect(body.productId).toEqual(['A', 'B']);
    expect(body.normalizedPackingString).toEqual([null, '12 ea']);
    const lengths = new Set(Object.values(body).map((column) => column.length));
    expect([...lengths]).toEqual([2]);
  });

  it('filters with base64 JSON (padded or not), inclusive ranges and exact matches, then applies limit', async () => {
    for (const id of ['A', 'B', 'C', 'D']) await api('/product', { body: { productId: id } });
    const padded = await api<{ productId: string[] }>(`/product?filter=${filter({ productId: ['B', 'C'] })}`);
    const unpadded = await api<{ productId: string[] }>(
      `/product?filter=${filter({ productId: ['B', 'C'] }, false)}`,
    );
    expect(padded.body.productId).toEqual(['B', 'C']);
    expect(unpadded.body.productId).toEqual(['B', 'C']);
    expect(
      (await api<{ productId: string[] }>(`/product?filter=${filter({ productId: ['C', 'C'] })}`)).body
        .productId,
    ).toEqual(['C']);
    expect(
      (await api<{ productId: string[] }>(`/product?filter=${filter({ productId: ['B', null] })}&limit=2`))
        .body.productId,
    ).toEqual(['B', 'C']);
    expect((await api(`/product?filter=not*base64`)).status).toBe(400);
    expect(
      (await api(`/partygroup?filter=${filter({ roleTypeIdList: ['SUPPLIER', 'SUPPLIER'] })}`)).status,
    ).toBe(400);
  });

  it('requires a lower bound on lastUpdatedDate and at most 30 days of span', async () => {
    await api('/product', { body: { productId: 'A' } });
    const now = new Date(fake.clock.now());
    const iso = (d: Date) => d.toISOString().slice(0, 19);
    const day = 24 * 60 * 60 * 1000;
    const recent = await api<{ productId: string[] }>(
      `/product?filter=${filter({ lastUpdatedDate: [iso(new Date(now.getTime() - day)), null] })}`,
    );
    expect(recent.body.productId).toEqual(['A']);
    const open = await api(`/product?filter=${filter({ lastUpdatedDate: [null, iso(now)] })}`);
    expect(open.status).toBe(400);
    const wide = await api(
      `/product?filter=${filter({ lastUpdatedDate: [iso(new Date(now.getTime() - 31 * day)), iso(now)] })}`,
    );
    expect(wide.status).toBe(400);
    expect(wide.body.errorMessage).toMatch(/30 days/);
  });

  it('tells vendors apart from customers by role; the account itself is PRIMARY', async () => {
    await api('/partygroup', { body: { groupName: 'Acme Supply', roleTypeIdList: ['SUPPLIER'] } });
    await api('/partygroup', { body: { groupName: 'Big Customer', roleTypeIdList: ['CUSTOMER'] } });
    const { body } = await api<{ partyId: string[]; groupName: string[]; roleTypeIdList: string[][] }>(
      '/partygroup',
    );
    expect(body.partyId[0]).toBe('PRIMARY');
    const suppliers = body.groupName.filter((_, i) => body.roleTypeIdList[i]!.includes('SUPPLIER'));
    expect(suppliers).toEqual(['Acme Supply']);
    expect((await api('/partygroup', { body: { groupName: 'X', roleTypeIdList: ['VENDOR'] } })).status).toBe(
      400,
    );
  });
});

describe('Finale fake: purchase orders and stock', () => {
  async function purchaseOrder(quantity = 10) {
    await api('/product', { body: { productId: 'BP2905' } });
    const supplier = await api('/partygroup', { body: { groupName: 'Acme', roleTypeIdList: ['SUPPLIER'] } });
    return api('/order', {
      body: {
        orderId: 'PO-1',
        orderTypeId: 'PURCHASE_ORDER',
        destinationFacilityUrl: await mainWarehouse(),
        orderRoleList: [{ roleTypeId: 'SUPPLIER', partyId: supplier.body.partyId }],
        orderItemList: [{ productId: 'BP2905', quantity, unitPrice: 2.5 }],
      },
    });
  }

  it('moves a purchase order through created, locked and completed by its action URLs', async () => {
    const order = await purchaseOrder();
    expect(order.body).toMatchObject({
      statusId: 'ORDER_CREATED',
      actionUrlLock: '/demo/api/order/PO-1/lock',
      actionUrlComplete: null,
    });
    const locked = await api(order.body.actionUrlLock as string, { method: 'POST' });
    expect(locked.body).toMatchObject({
      statusId: 'ORDER_LOCKED',
      actionUrlLock: null,
      actionUrlComplete: '/demo/api/order/PO-1/complete',
    });
    expect((await api('/order/PO-1', { body: { orderItemList: [] } })).status).toBe(400);
    const onOrder = (await api<StockColumns>('/inventoryitem')).body;
    expect(onOrder.quantityOnOrder).toEqual([10]);
    expect(onOrder.orderUrl).toEqual(['/demo/api/order/PO-1']);

    const completed = await api(locked.body.actionUrlComplete as string, { method: 'POST' });
    expect(completed.body).toMatchObject({ statusId: 'ORDER_COMPLETED', actionUrlCancel: null });
    const received = (await api<StockColumns>('/inventoryitem')).body;
    expect(received.quantityOnHand).toEqual([10]);
    expect(received.quantityOnOrder).toEqual([0]);
    expect((await api('/order/PO-1/cancel', { method: 'POST' })).status).toBe(400);
    expect((await api('/order/PO-1', { body: { orderDate: '2024-01-01T00:00:00' } })).status).toBe(400);
    const { body: shipments } = await api<{ statusId: string[] }>('/shipment');
    expect(shipments.statusId).toEqual(['SHIPMENT_RECEIVED']);
  });

  it('cancels a locked order with its shipments and its stock on order', async () => {
    const order = await purchaseOrder();
    await api(order.body.actionUrlLock as string, { method: 'POST' });
    const cancelled = await api('/order/PO-1/cancel', { method: 'POST' });
    expect(cancelled.body.statusId).toBe('ORDER_CANCELLED');
    expect((await api<StockColumns>('/inventoryitem')).body.quantityOnOrder).toEqual([]);
    expect((await api<{ statusId: string[] }>('/shipment')).body.statusId).toEqual(['SHIPMENT_CANCELLED']);
  });

  it('changes stock by committed variances only, each row with exactly one non-zero quantity', async () => {
    const facilityUrl = await mainWarehouse();
    await api('/product', { body: { productId: 'W1' } });
    const other = await api('/facility', { body: { facilityName: 'Overflow' } });
    expect(
      (
        await api('/inventoryvariance', {
          body: { facilityUrl, inventoryItemVarianceList: [{ productId: 'W1', quantityOnHandVar: 5 }] },
        })
      ).status,
    ).toBe(400);
    const mismatched = await api('/inventoryvariance', {
      body: {
        facilityUrl,
        physicalInventoryTypeId: 'PHYSICAL_INVENTORY_VARIANCE',
        inventoryItemVarianceList: [
          { productId: 'W1', facilityUrl: other.body.facilityUrl, quantityOnHandVar: 5 },
        ],
      },
    });
    expect(mismatched.status).toBe(400);
    const variance = await api('/inventoryvariance', {
      body: {
        facilityUrl,
        physicalInventoryTypeId: 'PHYSICAL_INVENTORY_VARIANCE',
        inventoryItemVarianceList: [{ productId: 'W1', quantityOnHandVar: 7 }],
      },
    });
    expect(variance.body.statusId).toBe('PHSCL_INV_INPUT');
    expect((await api<StockColumns>('/inventoryitem')).body.quantityOnHand).toEqual([]);
    await api(variance.body.actionUrlCommit as string, { method: 'POST' });
    expect((await api(variance.body.physicalInventoryUrl as string)).body).toMatchObject({
      statusId: 'PHSCL_INV_COMMITTED',
      actionUrlCommit: null,
    });
    await purchaseOrder(3).then((o) => api(o.body.actionUrlLock as string, { method: 'POST' }));
    const stock = (await api<StockColumns>('/inventoryitem')).body;
    for (let i = 0; i < stock.productId.length; i++) {
      const nonZero = [stock.quantityOnHand[i], stock.quantityOnOrder[i], stock.quantityReserved[i]].filter(
        (q) => q !== 0,
      );
      expect(nonZero).toHaveLength(1);
    }
    expect((await api(`/inventoryitem?filter=${filter({ productId: ['W1', 'W1'] })}`)).status).toBe(400);
  });

  it('plants a stock difference through the control plane that leaves no trace in lastUpdatedDate', async () => {
    await api('/product', { body: { productId: 'P' } });
    const facilityUrl = await mainWarehouse();
    const before = (await api('/product/P')).body.lastUpdatedDate;
    await fetch(`${fake.url}/_fake/stock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ productId: 'P', facilityUrl, delta: -2 }),
    });
    expect((await api<StockColumns>('/inventoryitem')).body.quantityOnHand).toEqual([-2]);
    expect((await api('/product/P')).body.lastUpdatedDate).toBe(before);
    const stats = (await (await fetch(`${fake.url}/_fake/stats`)).json()) as {
      onHandByFacility: Record<string, number>;
    };
    expect(stats.onHandByFacility[facilityUrl]).toBe(-2);
  });
});

describe('Finale fake: rate limits', () => {
  it('allows 120 GETs a minute per account by default, then 429 with X-RateLimit-* until the minute turns', async () => {
    await fake.close();
    fake = await startFinaleFake({ limits: { GET: { limit: 3, periodMs: 60_000 } } });
    for (let i = 0; i < 3; i++) expect((await api('/product')).status).toBe(200);
    const limited = await api('/product');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('x-ratelimit-remaining')).toBe('0');
    expect((await api('/product', { body: { productId: 'Z' } })).status).toBe(200);
    const reset = Number(limited.headers.get('x-ratelimit-reset')) * 1000;
    await fetch(`${fake.url}/_fake/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ now: reset }),
    });
    expect((await api('/product')).status).toBe(200);
  });
});
