import { finaleTime } from './finale-time.js';

/** An entity as the fake keeps it: the fields Finale answers with. */
export type Entity = Record<string, unknown> & { lastUpdatedDate: string; createdDate: string };

export const COLLECTIONS = [
  'product',
  'facility',
  'partygroup',
  'order',
  'inventoryvariance',
  'shipment',
] as const;
export type Collection = (typeof COLLECTIONS)[number];

/** Where stock sits: on hand, on order (a locked purchase order) or reserved (a locked sales order). */
export type StockKind = 'quantityOnHand' | 'quantityOnOrder' | 'quantityReserved';

export interface StockKey {
  facilityUrl: string;
  productUrl: string;
  lotId: string | null;
  normalizedPackingString: string | null;
  orderUrl: string | null;
  kind: StockKind;
}

/** Every collection of one account, the stock ledger, and the ids and URLs Finale would give. */
export class FinaleStore {
  readonly entities = new Map<Collection, Map<string, Entity>>(COLLECTIONS.map((c) => [c, new Map()]));
  /** Stock by (facility, product, lot, packing, order, kind): the rows `inventoryitem` lists. */
  readonly stock = new Map<string, { key: StockKey; quantity: number }>();
  private sequence = 10_000;

  constructor(
    readonly account: string,
    private readonly now: () => number,
  ) {}

  /** `/{account}/api/{collection}/{id}`, the id URL-encoded (`Ocean 1` → `Ocean%201`). */
  url(collection: Collection, id: string): string {
    return `/${this.account}/api/${collection}/${encodeURIComponent(id)}`;
  }

  nextId(): string {
    return String(++this.sequence);
  }

  time(): string {
    return finaleTime(this.now());
  }

  get(collection: Collection, id: string): Entity | undefined {
    return this.entities.get(collection)!.get(id);
  }

  /** The entity a URL points at (`/demo/api/product/Ocean%201`), if it is one of this account's. */
  byUrl(collection: Collection, url: unknown): Entity | undefined {
    if (typeof url !== 'string') return undefined;
    const prefix = `/${this.account}/api/${collection}/`;
    if (!url.startsWith(prefix)) return undefined;
    try {
      return this.get(collection, decodeURIComponent(url.slice(prefix.length)));
    } catch {
      return undefined;
    }
  }

  put(collection: Collection, id: string, fields: Record<string, unknown>): Entity {
    const time = this.time();
    const entity = { ...fields, createdDate: time, lastUpdatedDate: time } as Entity;
    this.entities.get(collection)!.set(id, entity);
    return entity;
  }

  touch(entity: Entity): void {
    entity.lastUpdatedDate = this.time();
  }

  list(collection: Collection): Entity[] {
    return [...this.entities.get(collection)!.values()];
  }

  /** Adds `delta` to one stock row; a row that comes to zero disappears, as in Finale's list. */
  addStock(key: StockKey, delta: number): void {
    const id = [
      key.facilityUrl,
      key.productUrl,
      key.lotId,
      key.normalizedPackingString,
      key.orderUrl,
      key.kind,
    ].join('\u0000');
    const row = this.stock.get(id) ?? { key, quantity: 0 };
    row.quantity += delta;
    if (row.quantity === 0) this.stock.delete(id);
    else this.stock.set(id, row);
  }

  /** Drops every stock row an order put there (when it completes or is cancelled). */
  clearOrderStock(orderUrl: string): void {
    for (const [id, row] of this.stock) if (row.key.orderUrl === orderUrl) this.stock.delete(id);
  }

  clear(): void {
    for (const map of this.entities.values()) map.clear();
    this.stock.clear();
    this.sequence = 10_000;
  }
}
