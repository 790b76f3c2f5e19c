import { z } from 'zod';
import { isPatchbayError } from '../../../core/errors.js';
import type { FetchContext, SyncContext } from '../../../sync/fetch-context.js';
import type { SyncPage } from '../../../sync/page.js';
import type { LocalChange, PushOutcome } from '../../../sync/push.js';
import { defineSyncModel } from '../../../sync/sync-model.js';
import type { FinaleApi, OrderInput } from '../api.js';
import type { FinaleOrder } from '../schemas.js';
import {
  apiFor,
  type FinaleCheckpoint,
  failure,
  finaleMillis,
  lookbackOption,
  pages,
  refused,
} from './finale-context.js';
import { compareByStatus } from './vendors.js';

const STATUSES = ['ORDER_CREATED', 'ORDER_LOCKED', 'ORDER_COMPLETED', 'ORDER_CANCELLED'] as const;
type Status = (typeof STATUSES)[number];

/**
 * A purchase order: its status, receiving facility, supplier and items. A new local order has no
 * `orderUrl` yet (Finale gives it); its `orderId` is ours.
 */
export const purchaseOrderSchema = z.object({
  orderId: z.string(),
  orderUrl: z.string().nullable(),
  statusId: z.enum(STATUSES),
  facilityUrl: z.string().nullable(),
  supplierId: z.string().nullable(),
  items: z.array(
    z.object({ productUrl: z.string(), quantity: z.number().positive(), unitPrice: z.number() }),
  ),
  lastUpdatedDate: z.string().nullable(),
});
export type PurchaseOrderRecord = z.output<typeof purchaseOrderSchema>;

const options = z.strictObject({ lookback: lookbackOption });
export type PurchaseOrderOptions = z.output<typeof options>;

function orderRecord(o: FinaleOrder): PurchaseOrderRecord {
  return {
    orderId: o.orderId,
    orderUrl: o.orderUrl,
    statusId: o.statusId,
    facilityUrl: o.destinationFacilityUrl ?? null,
    supplierId: o.orderRoleList?.find((r) => r.roleTypeId === 'SUPPLIER')?.partyId ?? null,
    items: (o.orderItemList ?? []).map((i) => ({
      productUrl: i.productUrl,
      quantity: i.quantity,
      unitPrice: i.unitPrice ?? 0,
    })),
    lastUpdatedDate: o.lastUpdatedDate ?? null,
  };
}

/** The fields an order's edit writes (`ORDER_CREATED` only). */
function contents(r: PurchaseOrderRecord): Partial<OrderInput> {
  return {
    ...(r.facilityUrl !== null && { destinationFacilityUrl: r.facilityUrl }),
    orderRoleList: r.supplierId === null ? [] : [{ roleTypeId: 'SUPPLIER', partyId: r.supplierId }],
    orderItemList: r.items.map((i) => ({ ...i })),
  };
}

const sameContents = (a: PurchaseOrderRecord, b: PurchaseOrderRecord) =>
  JSON.stringify([a.facilityUrl, a.supplierId, a.items]) ===
  JSON.stringify([b.facilityUrl, b.supplierId, b.items]);

/** The actions that take an order from one status to another; undefined: Finale has no way back. */
function path(from: Status, to: Status): ('lock' | 'complete' | 'cancel')[] | undefined {
  if (from === to) return [];
  if (to === 'ORDER_CANCELLED')
    return from === 'ORDER_CREATED' || from === 'ORDER_LOCKED' ? ['cancel'] : undefined;
  if (from === 'ORDER_CREATED' && to === 'ORDER_LOCKED') return ['lock'];
  if (from === 'ORDER_CREATED' && to === 'ORDER_COMPLETED') return ['lock', 'complete'];
  if (from === 'ORDER_LOCKED' && to === 'ORDER_COMPLETED') return ['complete'];
  return undefined;
}

/**
 * `finale.purchase-orders`: Finale's purchase orders, both ways.
 * - Reads: the whole `order` list on a full read, the `lastUpdatedDate` feed (less `lookback`) on an
 *   incremental one, purchase orders only. Finale deletes no orders (they are cancelled).
 * - Pushes: a new order is created under its own `orderId` (a repeat after a crash finds it: 409, then
 *   read); facility, supplier and items are edited only while the order is `ORDER_CREATED` — once
 *   locked (committed) Finale refuses edits, and so does the push, saying so; a changed `statusId` goes
 *   through the order's action URLs (lock, complete, cancel) from the status Finale has now; a local
 *   delete cancels. What Finale answers is stored.
 * - Integrity: orders per status on both sides, and the orders that differ.
 */
export const finalePurchaseOrders = defineSyncModel({
  name: 'finale.purchase-orders',
  description:
    'Finale purchase orders, incremental by lastUpdatedDate, bidirectional (edits while created, status by action URLs)',
  options,
  define: (o: PurchaseOrderOptions) => ({
    key: 'orderId',
    schema: purchaseOrderSchema,
    volatile: ['lastUpdatedDate'],
    modifiedAt: (r: PurchaseOrderRecord) => finaleMillis(r.lastUpdatedDate),
    fetch: (ctx: FetchContext<FinaleCheckpoint>) => readOrders(ctx, o),
    push: (ctx: SyncContext, changes: readonly LocalChange<PurchaseOrderRecord>[]) =>
      pushOrders(ctx, changes),
    integrity: async (ctx: SyncContext, local: AsyncIterable<PurchaseOrderRecord>) =>
      compareByStatus(
        local,
        (await apiFor(ctx).orders.list({ type: 'PURCHASE_ORDER' })).map(orderRecord),
        (r) => r.orderId,
        (r) => [r.statusId, r.facilityUrl, r.supplierId, r.items],
      ),
  }),
});

async function* readOrders(
  ctx: FetchContext<FinaleCheckpoint>,
  o: PurchaseOrderOptions,
): AsyncGenerator<SyncPage<PurchaseOrderRecord>> {
  const full = ctx.mode === 'full' || ctx.checkpoint === undefined;
  const orders = await apiFor(ctx).orders.list({
    type: 'PURCHASE_ORDER',
    ...(!full && { updatedSince: Math.max(0, ctx.checkpoint!.since - o.lookback) }),
  });
  const checkpoint = { since: ctx.startedAt };
  const records = orders.map(orderRecord);
  for (const page of pages(records)) yield { records: page, checkpoint };
  if (records.length === 0) yield { records: [], checkpoint };
}

async function pushOrders(
  ctx: SyncContext,
  changes: readonly LocalChange<PurchaseOrderRecord>[],
): Promise<PushOutcome<PurchaseOrderRecord>[]> {
  const api = apiFor(ctx);
  const outcomes: PushOutcome<PurchaseOrderRecord>[] = [];
  for (const change of changes) {
    try {
      outcomes.push(await pushOrder(api, change));
    } catch (error) {
      ctx.signal.throwIfAborted();
      outcomes.push(failure(change.id, error));
    }
  }
  return outcomes;
}

async function pushOrder(
  api: FinaleApi,
  change: LocalChange<PurchaseOrderRecord>,
): Promise<PushOutcome<PurchaseOrderRecord>> {
  const { base, data } = change;
  const url = base?.orderUrl ?? data?.orderUrl ?? null;
  let order: FinaleOrder;
  if (url === null) {
    if (data === null) return { id: change.id, ok: true };
    order = await createOnce(api, data);
  } else {
    order = await api.orders.get(url);
    if (data !== null && base !== undefined && !sameContents(data, base)) {
      if (order.statusId !== 'ORDER_CREATED') {
        return refused(
          change.id,
          `order ${order.orderId} is ${order.statusId} in Finale: its facility, supplier and items cannot change once it is locked`,
        );
      }
      order = await api.orders.update(order.orderUrl, contents(data));
    }
  }
  const target: Status = data === null ? 'ORDER_CANCELLED' : data.statusId;
  const steps = path(order.statusId, target);
  if (!steps) {
    return refused(
      change.id,
      `Finale cannot take order ${order.orderId} from ${order.statusId} to ${target}`,
    );
  }
  for (const step of steps) order = await api.orders.act(order, step);
  return data === null
    ? { id: change.id, ok: true }
    : { id: change.id, ok: true, record: orderRecord(order) };
}

/** Creates the order under its own id; a 409 says an earlier push (cut off by a crash) made it. */
async function createOnce(api: FinaleApi, wanted: PurchaseOrderRecord): Promise<FinaleOrder> {
  try {
    return await api.orders.create({
      orderId: wanted.orderId,
      orderTypeId: 'PURCHASE_ORDER',
      ...contents(wanted),
    });
  } catch (error) {
    if (!(isPatchbayError(error) && error.status === 409)) throw error;
    return api.orders.byId(wanted.orderId);
  }
}
