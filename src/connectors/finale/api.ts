import type { Clock } from '../../core/clock.js';
import { ErrorCode, isPatchbayError, PatchbayError } from '../../core/errors.js';
import type { HttpClient } from '../../http/create-http-client.js';
import type { ResponseSchema } from '../../http/http-types.js';
import { finaleFilter, finaleTime, fromColumns } from './columns.js';
import {
  type FinaleFacility,
  type FinaleInventoryItem,
  type FinaleOrder,
  type FinalePartyGroup,
  type FinaleProduct,
  type FinaleVariance,
  facilitySchema,
  inventoryItemSchema,
  orderSchema,
  partyGroupSchema,
  productSchema,
  varianceSchema,
} from './schemas.js';

/** Stock of one product at one facility: the sums of Finale's inventory rows. */
export interface StockLevel {
  productId: string;
  productUrl: string;
  facilityUrl: string;
  onHand: number;
  onOrder: number;
  reserved: number;
}

export interface OrderInput {
  orderId?: string;
  orderTypeId: 'PURCHASE_ORDER' | 'SALES_ORDER';
  /** A purchase order's receiving facility. */
  destinationFacilityUrl?: string;
  /** A sales order's shipping facility. */
  originFacilityUrl?: string;
  orderItemList?: { productUrl?: string; productId?: string; quantity: number; unitPrice?: number }[];
  /** A purchase order's supplier: `[{ roleTypeId: 'SUPPLIER', partyId }]`. */
  orderRoleList?: { roleTypeId: string; partyId: string }[];
}

type Entity = Record<string, unknown>;

/**
 * Finale's typed calls over a connection's client. Lists come whole (Finale has no pages; `limit`
 * applies after filtering); `updatedSince` reads the `lastUpdatedDate` change feed in windows of 30 days,
 * the longest Finale takes.
 */
export interface FinaleApi {
  readonly products: {
    list(options?: { updatedSince?: number }): Promise<FinaleProduct[]>;
    get(productId: string): Promise<FinaleProduct>;
    create(input: { productId: string; internalName?: string } & Entity): Promise<FinaleProduct>;
    update(productId: string, change: Entity): Promise<FinaleProduct>;
  };
  readonly facilities: {
    list(): Promise<FinaleFacility[]>;
    create(input: { facilityName: string } & Entity): Promise<FinaleFacility>;
  };
  readonly partyGroups: {
    list(options?: { updatedSince?: number }): Promise<FinalePartyGroup[]>;
    /** Party groups with the SUPPLIER role (the role list cannot be filtered on: selected after listing). */
    vendors(options?: { updatedSince?: number }): Promise<FinalePartyGroup[]>;
    create(input: { groupName: string; roleTypeIdList?: string[] } & Entity): Promise<FinalePartyGroup>;
    update(partyUrl: string, change: Entity): Promise<FinalePartyGroup>;
  };
  readonly orders: {
    list(options?: { updatedSince?: number; type?: OrderInput['orderTypeId'] }): Promise<FinaleOrder[]>;
    get(orderUrl: string): Promise<FinaleOrder>;
    /** By `orderId`, at `/order/<id>` (where Finale puts the orders created with a chosen id). */
    byId(orderId: string): Promise<FinaleOrder>;
    create(input: OrderInput): Promise<FinaleOrder>;
    /** Only an order still `ORDER_CREATED` can be edited. */
    update(orderUrl: string, change: Partial<OrderInput>): Promise<FinaleOrder>;
    /** The order's action, through the URL Finale offers only when the action is valid. */
    act(order: FinaleOrder, action: 'lock' | 'complete' | 'cancel'): Promise<FinaleOrder>;
  };
  readonly inventory: {
    items(): Promise<FinaleInventoryItem[]>;
    /** Stock per product and facility, summed over Finale's rows (one non-zero quantity each). */
    stock(): Promise<StockLevel[]>;
    /**
     * Moves on-hand stock at one facility by deltas, committed: Finale's inventory variance. With `id`
     * (the variance's own, client-chosen) a repeated call moves nothing twice: a variance of that id
     * already there is committed if it is not yet, else returned.
     */
    adjust(
      facilityUrl: string,
      deltas: { productUrl: string; quantity: number }[],
      options?: { id?: string },
    ): Promise<FinaleVariance>;
    /** Variances changed since (the `lastUpdatedDate` feed), with their items. */
    variances(options?: { updatedSince?: number }): Promise<FinaleVariance[]>;
  };
}

const THIRTY_DAYS_MS = 30 * 24 * 3_600_000;
const ACTION_FIELD = {
  lock: 'actionUrlLock',
  complete: 'actionUrlComplete',
  cancel: 'actionUrlCancel',
} as const;

export function finaleApi(
  client: HttpClient,
  context: { account: string; clock: Pick<Clock, 'now'> },
): FinaleApi {
  const prefix = `/${context.account}/api`;
  /** Finale's ids are URL paths from the server's root; the client's base URL already ends in the prefix. */
  const pathOf = (url: string, what: string) => {
    if (typeof url !== 'string' || !url.startsWith(`${prefix}/`)) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `a Finale ${what} URL starts with ${prefix}/, got ${JSON.stringify(url)}`,
      );
    }
    return url.slice(prefix.length);
  };
  const one = async <T>(schema: ResponseSchema<T>, path: string, body?: Entity): Promise<T> =>
    (await client.request({ method: body ? 'POST' : 'GET', path, ...(body && { body }), schema })).body;
  const list = async <T>(schema: ResponseSchema<T>, collection: string, filter?: string): Promise<T[]> => {
    const { body } = await client.request({ path: `/${collection}`, ...(filter && { query: { filter } }) });
    return fromColumns(body, collection).map((row, i) => {
      const parsed = schema.safeParse(row);
      if (parsed.success) return parsed.data;
      const issue = parsed.error.issues[0];
      throw new PatchbayError(
        ErrorCode.RESPONSE_INVALID,
        `Finale's ${collection} list, row ${i}: ${issue?.path.join('.') || '(row)'} ${issue?.message ?? ''}`.trim(),
      );
    });
  };
  /** The change feed: `lastUpdatedDate` from `since` to now, 30 days a request, each entity once (its newest). */
  const updated = async <T extends { lastUpdatedDate?: string | null | undefined }>(
    schema: ResponseSchema<T>,
    collection: string,
    since: number | undefined,
    idOf: (item: T) => string,
  ): Promise<T[]> => {
    if (since === undefined) return list(schema, collection);
    const now = context.clock.now();
    const seen = new Map<string, T>();
    for (let lower = since; lower <= now; lower += THIRTY_DAYS_MS) {
      const upper = Math.min(lower + THIRTY_DAYS_MS, now);
      for (const item of await list(
        schema,
        collection,
        finaleFilter('lastUpdatedDate', finaleTime(lower), finaleTime(upper)),
      ))
        seen.set(idOf(item), item);
    }
    return [...seen.values()];
  };
  const segment = (id: string, what: string) => {
    if (typeof id !== 'string' || id === '')
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `a Finale ${what} id is a non-empty string`);
    return encodeURIComponent(id);
  };

  return {
    products: {
      list: (options = {}) => updated(productSchema, 'product', options.updatedSince, (p) => p.productId),
      get: async (id) => one(productSchema, `/product/${segment(id, 'product')}`),
      create: async (input) => one(productSchema, '/product', input),
      update: async (id, change) => one(productSchema, `/product/${segment(id, 'product')}`, change),
    },
    facilities: {
      list: () => list(facilitySchema, 'facility'),
      create: async (input) => one(facilitySchema, '/facility', input),
    },
    partyGroups: {
      list: (options = {}) => updated(partyGroupSchema, 'partygroup', options.updatedSince, (p) => p.partyId),
      vendors: async (options = {}) =>
        (await updated(partyGroupSchema, 'partygroup', options.updatedSince, (p) => p.partyId)).filter((p) =>
          p.roleTypeIdList?.includes('SUPPLIER'),
        ),
      create: async (input) => one(partyGroupSchema, '/partygroup', input),
      update: async (url, change) => one(partyGroupSchema, pathOf(url, 'party group'), change),
    },
    orders: {
      list: async (options = {}) =>
        (await updated(orderSchema, 'order', options.updatedSince, (o) => o.orderId)).filter(
          (o) => options.type === undefined || o.orderTypeId === options.type,
        ),
      get: async (url) => one(orderSchema, pathOf(url, 'order')),
      byId: async (id) => one(orderSchema, `/order/${segment(id, 'order')}`),
      create: async (input) => one(orderSchema, '/order', { ...input }),
      update: async (url, change) => one(orderSchema, pathOf(url, 'order'), { ...change }),
      act: async (order, action) => {
        const url = order[ACTION_FIELD[action]];
        if (typeof url !== 'string') {
          throw new PatchbayError(
            ErrorCode.INVALID_ARGUMENT,
            `order ${order.orderId} is ${order.statusId}: Finale offers no ${action} action for it`,
          );
        }
        return one(orderSchema, pathOf(url, 'action'), {});
      },
    },
    inventory: {
      items: () => list(inventoryItemSchema, 'inventoryitem'),
      stock: async () => {
        const levels = new Map<string, StockLevel>();
        for (const row of await list(inventoryItemSchema, 'inventoryitem')) {
          if (row.facilityUrl === null) continue;
          const key = `${row.productUrl}\n${row.facilityUrl}`;
          const level = levels.get(key) ?? {
            productId: row.productId ?? row.productUrl.slice(row.productUrl.lastIndexOf('/') + 1),
            productUrl: row.productUrl,
            facilityUrl: row.facilityUrl,
            onHand: 0,
            onOrder: 0,
            reserved: 0,
          };
          level.onHand += row.quantityOnHand ?? 0;
          level.onOrder += row.quantityOnOrder ?? 0;
          level.reserved += row.quantityReserved ?? 0;
          levels.set(key, level);
        }
        return [...levels.values()];
      },
      adjust: async (facilityUrl, deltas, options = {}) => {
        let variance: FinaleVariance;
        try {
          variance = await one(varianceSchema, '/inventoryvariance', {
            ...(options.id !== undefined && { physicalInventoryId: options.id }),
            physicalInventoryTypeId: 'PHYSICAL_INVENTORY_VARIANCE',
            facilityUrl,
            inventoryItemVarianceList: deltas.map((d) => ({
              productUrl: d.productUrl,
              facilityUrl,
              quantityOnHandVar: d.quantity,
            })),
          });
        } catch (error) {
          // Our id is taken: an earlier call made this variance (and maybe committed it).
          if (options.id === undefined || !(isPatchbayError(error) && error.status === 409)) throw error;
          variance = await one(varianceSchema, `/inventoryvariance/${segment(options.id, 'variance')}`);
        }
        if (variance.statusId === 'PHSCL_INV_CANCELLED') {
          throw new PatchbayError(
            ErrorCode.INVALID_ARGUMENT,
            `inventory variance ${variance.physicalInventoryId} was cancelled in Finale; its stock change is not applied`,
          );
        }
        if (typeof variance.actionUrlCommit !== 'string') return variance;
        return one(varianceSchema, pathOf(variance.actionUrlCommit, 'action'), {});
      },
      variances: (options = {}) =>
        updated(varianceSchema, 'inventoryvariance', options.updatedSince, (v) => v.physicalInventoryId),
    },
  };
}
