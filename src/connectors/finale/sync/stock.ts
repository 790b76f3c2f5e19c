import { z } from 'zod';
import type { FetchContext, SyncContext } from '../../../sync/fetch-context.js';
import type { IntegrityFigures, IntegrityTotals } from '../../../sync/integrity.js';
import type { SyncPage } from '../../../sync/page.js';
import type { LocalChange, PushOutcome } from '../../../sync/push.js';
import { defineSyncModel } from '../../../sync/sync-model.js';
import type { StockLevel } from '../api.js';
import {
  apiFor,
  type FinaleCheckpoint,
  failure,
  idFromUrl,
  lookbackOption,
  pages,
  refused,
} from './finale-context.js';

/**
 * Stock of one product at one facility, as Finale sums its inventory rows. `id` is
 * `<productId>@<facilityId>`. Only `onHand` is written back (as a variance); `onOrder` and `reserved`
 * follow purchase and sales orders.
 */
export const stockRecordSchema = z.object({
  id: z.string(),
  productId: z.string(),
  productUrl: z.string(),
  facilityUrl: z.string(),
  onHand: z.number(),
  onOrder: z.number(),
  reserved: z.number(),
});
export type StockRecord = z.output<typeof stockRecordSchema>;

const options = z.strictObject({ lookback: lookbackOption });
export type StockOptions = z.output<typeof options>;

export const stockId = (productUrl: string, facilityUrl: string) =>
  `${idFromUrl(productUrl)}@${idFromUrl(facilityUrl)}`;

function stockRecord(level: StockLevel): StockRecord {
  return {
    id: stockId(level.productUrl, level.facilityUrl),
    productId: level.productId,
    productUrl: level.productUrl,
    facilityUrl: level.facilityUrl,
    onHand: level.onHand,
    onOrder: level.onOrder,
    reserved: level.reserved,
  };
}

/**
 * `finale.stock`: stock per product and facility, both ways.
 * - Reads: Finale's `inventoryitem` list cannot be filtered, so a full read lists it whole. An
 *   incremental read takes the `lastUpdatedDate` feeds of variances and orders (what moves stock) since
 *   the watermark, less `lookback`, and stores the levels of the (product, facility) pairs they touched;
 *   a pair Finale no longer lists is a delete. Stock that moves without either (what `POST
 *   /_fake/stock` plants) is not read until a full read — the integrity check finds it.
 * - Pushes: a changed `onHand` becomes a committed inventory variance of the difference from the
 *   stored level (Finale's stock moves by deltas, so a concurrent change there is kept), its id the
 *   change's idempotency key: a push repeated after a crash finds the variance and moves nothing
 *   twice. The levels are read again after the batch and stored as Finale has them.
 * - Integrity: per facility, the pairs with stock and the sums of on hand, on order and reserved, of
 *   the store and of Finale; and the pairs whose levels differ.
 */
export const finaleStock = defineSyncModel({
  name: 'finale.stock',
  description:
    'Finale stock per product and facility: variances and orders as the change feed, on-hand changes pushed as variances, integrity per facility',
  options,
  define: (o: StockOptions) => ({
    key: 'id',
    schema: stockRecordSchema,
    fetch: (ctx: FetchContext<FinaleCheckpoint>) => readStock(ctx, o),
    push: (ctx: SyncContext, changes: readonly LocalChange<StockRecord>[]) => pushStock(ctx, changes),
    integrity: (ctx: SyncContext, local: AsyncIterable<StockRecord>) => stockIntegrity(ctx, local),
  }),
});

async function* readStock(
  ctx: FetchContext<FinaleCheckpoint>,
  o: StockOptions,
): AsyncGenerator<SyncPage<StockRecord>> {
  const api = apiFor(ctx);
  const checkpoint = { since: ctx.startedAt };
  const at = ctx.checkpoint;
  if (ctx.mode === 'full' || at === undefined) {
    const levels = (await api.inventory.stock()).map(stockRecord);
    for (const records of pages(levels)) yield { records, checkpoint };
    if (levels.length === 0) yield { records: [], checkpoint };
    return;
  }
  const since = Math.max(0, at.since - o.lookback);
  const [variances, orders] = await Promise.all([
    api.inventory.variances({ updatedSince: since }),
    api.orders.list({ updatedSince: since }),
  ]);
  const touched = new Set<string>();
  for (const v of variances) {
    if (v.statusId !== 'PHSCL_INV_COMMITTED') continue;
    for (const item of v.inventoryItemVarianceList ?? [])
      touched.add(stockId(item.productUrl, v.facilityUrl));
  }
  for (const order of orders) {
    const facility =
      order.orderTypeId === 'PURCHASE_ORDER' ? order.destinationFacilityUrl : order.originFacilityUrl;
    if (!facility) continue;
    for (const item of order.orderItemList ?? []) touched.add(stockId(item.productUrl, facility));
  }
  if (touched.size === 0) {
    yield { records: [], checkpoint };
    return;
  }
  const levels = (await api.inventory.stock()).map(stockRecord).filter((r) => touched.has(r.id));
  const listed = new Set(levels.map((r) => r.id));
  const deleted = [...touched].filter((id) => !listed.has(id));
  let first = true;
  for (const records of pages(levels)) {
    yield { records, ...(first && { deleted }), checkpoint };
    first = false;
  }
  if (first) yield { records: [], deleted, checkpoint };
}

async function pushStock(
  ctx: SyncContext,
  changes: readonly LocalChange<StockRecord>[],
): Promise<PushOutcome<StockRecord>[]> {
  const api = apiFor(ctx);
  const outcomes: PushOutcome<StockRecord>[] = [];
  const moved: LocalChange<StockRecord>[] = [];
  for (const change of changes) {
    const { base, data } = change;
    const where = data ?? base;
    if (!where) {
      outcomes.push({ id: change.id, ok: true });
      continue;
    }
    if (base && data && (data.productUrl !== base.productUrl || data.facilityUrl !== base.facilityUrl)) {
      outcomes.push(refused(change.id, 'productUrl and facilityUrl name the stock record and cannot change'));
      continue;
    }
    if (data && stockId(data.productUrl, data.facilityUrl) !== change.id) {
      outcomes.push(
        refused(change.id, `the id of this stock record is ${stockId(data.productUrl, data.facilityUrl)}`),
      );
      continue;
    }
    if (data && (data.onOrder !== (base?.onOrder ?? 0) || data.reserved !== (base?.reserved ?? 0))) {
      outcomes.push(
        refused(
          change.id,
          'onOrder and reserved follow purchase and sales orders in Finale: change the order, not the stock',
        ),
      );
      continue;
    }
    const delta = (data?.onHand ?? 0) - (base?.onHand ?? 0);
    if (delta !== 0) {
      try {
        await api.inventory.adjust(where.facilityUrl, [{ productUrl: where.productUrl, quantity: delta }], {
          id: `pb-${change.idempotencyKey}`,
        });
      } catch (error) {
        ctx.signal.throwIfAborted();
        outcomes.push(failure(change.id, error));
        continue;
      }
    }
    moved.push(change);
  }
  if (moved.length === 0) return outcomes;
  // Finale's levels after the variances, concurrent moves included: what the store keeps.
  const now = new Map((await api.inventory.stock()).map((l) => [stockId(l.productUrl, l.facilityUrl), l]));
  for (const change of moved) {
    const level = now.get(change.id);
    if (change.data === null) outcomes.push({ id: change.id, ok: true });
    else if (level) outcomes.push({ id: change.id, ok: true, record: stockRecord(level) });
    else
      outcomes.push({
        id: change.id,
        ok: true,
        record: { ...change.data, onHand: 0, onOrder: 0, reserved: 0 },
      });
  }
  return outcomes;
}

const hasStock = (r: StockRecord) => r.onHand !== 0 || r.onOrder !== 0 || r.reserved !== 0;

function add(totals: IntegrityTotals, r: StockRecord): void {
  const group = idFromUrl(r.facilityUrl);
  const t = totals[group] ?? { records: 0, onHand: 0, onOrder: 0, reserved: 0 };
  totals[group] = {
    records: (t.records ?? 0) + 1,
    onHand: (t.onHand ?? 0) + r.onHand,
    onOrder: (t.onOrder ?? 0) + r.onOrder,
    reserved: (t.reserved ?? 0) + r.reserved,
  };
}

async function stockIntegrity(
  ctx: SyncContext,
  local: AsyncIterable<StockRecord>,
): Promise<IntegrityFigures> {
  const source = new Map(
    (await apiFor(ctx).inventory.stock()).map((l) => [stockId(l.productUrl, l.facilityUrl), stockRecord(l)]),
  );
  const figures: IntegrityFigures & { records: string[] } = { local: {}, source: {}, records: [] };
  const seen = new Set<string>();
  for await (const record of local) {
    if (!hasStock(record)) continue;
    seen.add(record.id);
    add(figures.local, record);
    const there = source.get(record.id);
    if (
      !there ||
      there.onHand !== record.onHand ||
      there.onOrder !== record.onOrder ||
      there.reserved !== record.reserved
    )
      figures.records.push(record.id);
  }
  for (const [id, record] of source) {
    if (!hasStock(record)) continue;
    add(figures.source, record);
    if (!seen.has(id)) figures.records.push(id);
  }
  return figures;
}
