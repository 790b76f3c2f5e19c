/** One record of the fake: fields as given, plus `id`, `created_at` and `updated_at` (ISO, ms precision). */
export type FakeRecord = Record<string, unknown> & { id: string; created_at: string; updated_at: string };

interface Entry {
  /** `updated_at` in ms. */
  u: number;
  id: string;
  /** Version of the record this entry was made for; stale entries are skipped. */
  v: number;
}

interface Slot {
  record: FakeRecord;
  u: number;
  v: number;
  deleted: boolean;
}

/** A position in the (updated_at, id) order: after this key. */
export interface Position {
  u: number;
  id: string;
}

/** What a batch item did (HTTP status, as the batch endpoint answers it per item). */
export interface ItemResult {
  id: string;
  status: number;
  error?: string;
  record?: FakeRecord;
}

/**
 * The fake's data: records and their tombstones, kept in (updated_at, id) order so every listing is a
 * binary search and a scan, whatever the size. A change re-stamps the record with the fake's clock
 * (strictly after its previous stamp), which moves it to the end of the order, as a modified-since
 * listing of a real API sees it.
 */
export class RecordsState {
  private slots = new Map<string, Slot>();
  private order: Entry[] = [];
  private stale = 0;
  private seq = 0;
  private version = 0;
  private lastStamp = 0;

  constructor(private readonly now: () => number) {}

  reset(): void {
    this.slots.clear();
    this.order = [];
    this.stale = 0;
    this.seq = 0;
    this.lastStamp = 0;
  }

  get liveCount(): number {
    let n = 0;
    for (const slot of this.slots.values()) if (!slot.deleted) n++;
    return n;
  }

  get(id: string): FakeRecord | undefined {
    const slot = this.slots.get(id);
    return slot && !slot.deleted ? slot.record : undefined;
  }

  /** Every live record, in id order. */
  live(): FakeRecord[] {
    return [...this.slots.values()]
      .filter((s) => !s.deleted)
      .map((s) => s.record)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  liveIds(): string[] {
    return this.live().map((r) => r.id);
  }

  nextId(): string {
    for (;;) {
      const id = `rec_${String(++this.seq).padStart(7, '0')}`;
      if (!this.slots.has(id)) return id;
    }
  }

  /** Creates or replaces (`merge`: updates the given fields of) a record; returns it and whether it is new. */
  put(id: string, fields: Record<string, unknown>, merge: boolean): { record: FakeRecord; created: boolean } {
    const slot = this.slots.get(id);
    const live = slot && !slot.deleted ? slot.record : undefined;
    const u = this.stamp();
    const { id: _id, created_at: _c, updated_at: _u, ...rest } = fields;
    const record: FakeRecord = {
      ...(merge && live ? live : {}),
      ...rest,
      id,
      created_at: live?.created_at ?? new Date(u).toISOString(),
      updated_at: new Date(u).toISOString(),
    };
    this.place(id, record, u, false);
    return { record, created: live === undefined };
  }

  /** Deletes a record, leaving a tombstone in the order; false when there was none. */
  delete(id: string): boolean {
    const slot = this.slots.get(id);
    if (!slot || slot.deleted) return false;
    const u = this.stamp();
    this.place(id, { ...slot.record, updated_at: new Date(u).toISOString() }, u, true);
    return true;
  }

  /**
   * Up to `limit` entries after `after` (or from `since`, inclusive: modified-since reads are `>=`), in
   * order; tombstones only when `includeDeleted`.
   */
  listAfter(
    after: Position | undefined,
    since: number | undefined,
    limit: number,
    includeDeleted: boolean,
  ): { record: FakeRecord; deleted: boolean; position: Position }[] {
    this.compact();
    const start = after ?? { u: since ?? Number.NEGATIVE_INFINITY, id: '' };
    let i = this.firstAfter(start, after === undefined);
    const out: { record: FakeRecord; deleted: boolean; position: Position }[] = [];
    for (; i < this.order.length && out.length < limit; i++) {
      const entry = this.order[i]!;
      const slot = this.slots.get(entry.id);
      if (!slot || slot.v !== entry.v) continue;
      if (since !== undefined && entry.u < since) continue;
      if (slot.deleted && !includeDeleted) continue;
      out.push({ record: slot.record, deleted: slot.deleted, position: { u: entry.u, id: entry.id } });
    }
    return out;
  }

  /** The `offset`-th to `offset + limit`-th live entries (offset pagination: shifts when data changes). */
  listAt(offset: number, limit: number, since: number | undefined, includeDeleted: boolean) {
    this.compact();
    const out: { record: FakeRecord; deleted: boolean }[] = [];
    let skipped = 0;
    for (const entry of this.order) {
      const slot = this.slots.get(entry.id);
      if (!slot || slot.v !== entry.v) continue;
      if (since !== undefined && entry.u < since) continue;
      if (slot.deleted && !includeDeleted) continue;
      if (skipped++ < offset) continue;
      out.push({ record: slot.record, deleted: slot.deleted });
      if (out.length === limit) break;
    }
    return out;
  }

  /** How many entries a listing from `since` has in all (for `total` in offset and page answers). */
  count(since: number | undefined, includeDeleted: boolean): number {
    let n = 0;
    for (const slot of this.slots.values()) {
      if (since !== undefined && slot.u < since) continue;
      if (slot.deleted && !includeDeleted) continue;
      n++;
    }
    return n;
  }

  /** Deleted ids with their deletion time, since `since`. */
  tombstones(since: number): { id: string; deleted_at: string }[] {
    return [...this.slots.values()]
      .filter((s) => s.deleted && s.u >= since)
      .sort((a, b) => a.u - b.u)
      .map((s) => ({ id: s.record.id, deleted_at: s.record.updated_at }));
  }

  private stamp(): number {
    // Strictly increasing: two changes in one millisecond still order, and a listing never repeats one.
    this.lastStamp = Math.max(this.now(), this.lastStamp + 1);
    return this.lastStamp;
  }

  private place(id: string, record: FakeRecord, u: number, deleted: boolean): void {
    if (this.slots.has(id)) this.stale++;
    const v = ++this.version;
    this.slots.set(id, { record, u, v, deleted });
    const entry = { u, id, v };
    const last = this.order.at(-1);
    if (!last || last.u < u || (last.u === u && last.id < id)) this.order.push(entry);
    else this.order.splice(this.firstAfter({ u, id }, true), 0, entry);
  }

  /** Index of the first entry after `p` (or at it, when `inclusive`). */
  private firstAfter(p: Position, inclusive: boolean): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const e = this.order[mid]!;
      const before = e.u < p.u || (e.u === p.u && (inclusive ? e.id < p.id : e.id <= p.id));
      if (before) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private compact(): void {
    if (this.stale < 1000 || this.stale < this.order.length / 2) return;
    this.order = this.order.filter((e) => this.slots.get(e.id)?.v === e.v);
    this.stale = 0;
  }
}
