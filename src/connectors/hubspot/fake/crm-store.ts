import { validation } from './fake-errors.js';
import {
  type ObjectType,
  type PropertyDefinition,
  STANDARD_TYPES,
  standardProperties,
} from './object-types.js';

/** What search sees of a record: its state once indexed, which lags writes (`searchLagMs`). */
interface Snapshot {
  properties: Readonly<Record<string, string>>;
  archived: boolean;
  visibleFrom: number;
}

export interface StoredRecord {
  readonly id: string;
  readonly type: ObjectType;
  properties: Record<string, string>;
  history: Record<string, { value: string; timestamp: string; sourceType: string }[]>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
  search: { current: Snapshot; prior?: Snapshot };
}

export type CrmChange =
  | { kind: 'creation'; record: StoredRecord }
  | { kind: 'deletion'; record: StoredRecord }
  | { kind: 'propertyChange'; record: StoredRecord; propertyName: string; propertyValue: string };

interface TypeState {
  type: ObjectType;
  properties: Map<string, PropertyDefinition>;
  records: Map<string, StoredRecord>;
  /** Ids in creation order, which is id order: list pages resume after an id. */
  order: string[];
  /** Unique property → value → id (email on contacts, custom `hasUniqueValue` properties). */
  unique: Map<string, Map<string, string>>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The fake's CRM: types, their property definitions and their records. */
export class CrmStore {
  private types = new Map<string, TypeState>();
  private aliases = new Map<string, TypeState>();
  private nextId = 0;
  private customTypes = 0;
  private readonly listeners: ((change: CrmChange) => void)[] = [];

  constructor(
    readonly portalId: number,
    private readonly now: () => number,
    private readonly searchLagMs: () => number,
  ) {
    this.reset();
  }

  reset(): void {
    this.types.clear();
    this.aliases.clear();
    this.nextId = 100;
    this.customTypes = 0;
    for (const type of STANDARD_TYPES) this.addType(type, standardProperties(type, iso(this.now())));
  }

  onChange(listener: (change: CrmChange) => void): void {
    this.listeners.push(listener);
  }

  /** The type a path names, or HubSpot's 400 "Unable to infer object type". */
  type(name: string): TypeState {
    const state = this.aliases.get(name.toLowerCase());
    if (!state) throw validation(`Unable to infer object type from: ${name}`);
    return state;
  }

  hasType(name: string): boolean {
    return this.aliases.has(name.toLowerCase());
  }

  allTypes(): TypeState[] {
    return [...this.types.values()];
  }

  /** A custom object type (the schemas API): `p<portal>_<name>`, id `2-<n>`. */
  defineCustomType(
    name: string,
    singular: string,
    primary: string,
    properties: PropertyDefinition[],
  ): ObjectType {
    const fqn = `p${this.portalId}_${name.toLowerCase()}`;
    if (this.hasType(fqn) || this.hasType(name)) throw validation(`Object type ${name} already exists`);
    const type: ObjectType = {
      name: fqn,
      singular: singular.toLowerCase(),
      objectTypeId: `2-${1000 + ++this.customTypes}`,
      defaultProperties: ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id', primary].sort(),
      searchable: [primary],
      modifiedProperty: 'hs_lastmodifieddate',
      createdProperty: 'hs_createdate',
    };
    const at = iso(this.now());
    const own = (n: string, t: PropertyDefinition['type']) => ({
      name: n,
      label: n,
      type: t,
      fieldType: t === 'number' ? 'number' : 'date',
      groupName: 'information',
      description: '',
      hasUniqueValue: false,
      hubspotDefined: true,
      readOnlyValue: true,
      options: [],
      createdAt: at,
      updatedAt: at,
      archived: false,
    });
    this.addType(type, [
      own('hs_object_id', 'number'),
      own('hs_createdate', 'datetime'),
      own('hs_lastmodifieddate', 'datetime'),
      ...properties,
    ]);
    this.aliases.set(name.toLowerCase(), this.types.get(fqn)!);
    return type;
  }

  get(typeName: string, id: string): StoredRecord | undefined {
    return this.type(typeName).records.get(id);
  }

  /** A record by a unique property's value (`idProperty=email`). */
  byUnique(state: TypeState, property: string, value: string): StoredRecord | undefined {
    const index = state.unique.get(property);
    if (!index) {
      throw validation(
        `${property} is not a unique identifier property of ${state.type.name}; use hs_object_id or a property with unique values`,
      );
    }
    const id = index.get(normalize(property, value));
    return id === undefined ? undefined : state.records.get(id);
  }

  /** Records in id order after `afterId` (exclusive), archived or not as asked, up to `limit`. */
  page(
    state: TypeState,
    afterId: string | undefined,
    limit: number,
    archived: boolean,
  ): { records: StoredRecord[]; more: boolean } {
    let start = 0;
    if (afterId !== undefined) start = upperBound(state.order, Number(afterId));
    const records: StoredRecord[] = [];
    for (let i = start; i < state.order.length; i++) {
      const record = state.records.get(state.order[i]!)!;
      if (record.archived !== archived) continue;
      if (records.length === limit) return { records, more: true };
      records.push(record);
    }
    return { records, more: false };
  }

  /** The existing value owning a unique property, if another record has it. */
  conflict(
    state: TypeState,
    values: Record<string, string>,
    self?: string,
  ): { property: string; id: string } | undefined {
    for (const [property, index] of state.unique) {
      const value = values[property];
      if (value === undefined || value === '') continue;
      const owner = index.get(normalize(property, value));
      if (owner !== undefined && owner !== self && !state.records.get(owner)!.archived)
        return { property, id: owner };
    }
    return undefined;
  }

  /** A new record; `at` backdates it (seeded history), defaulting to now. */
  create(state: TypeState, values: Record<string, string>, sourceType = 'API', at?: number): StoredRecord {
    const now = at ?? this.now();
    const id = String(++this.nextId);
    const { type } = state;
    const properties: Record<string, string> = {
      ...values,
      hs_object_id: id,
      [type.createdProperty]: iso(now),
      [type.modifiedProperty]: iso(now),
      ...(type.name === 'contacts' && { hs_lastmodifieddate: iso(now) }),
    };
    const record: StoredRecord = {
      id,
      type,
      properties,
      history: {},
      createdAt: now,
      updatedAt: now,
      archived: false,
      search: {
        current: { properties: { ...properties }, archived: false, visibleFrom: now + this.searchLagMs() },
      },
    };
    for (const [name, value] of Object.entries(properties))
      record.history[name] = [{ value, timestamp: iso(now), sourceType }];
    state.records.set(id, record);
    state.order.push(id);
    this.index(state, record, {});
    this.emit({ kind: 'creation', record });
    for (const [propertyName, propertyValue] of Object.entries(values)) {
      this.emit({ kind: 'propertyChange', record, propertyName, propertyValue });
    }
    return record;
  }

  update(
    state: TypeState,
    record: StoredRecord,
    values: Record<string, string>,
    sourceType = 'API',
  ): StoredRecord {
    const now = this.now();
    const before = { ...record.properties };
    const changed = Object.entries(values).filter(([k, v]) => record.properties[k] !== v);
    for (const [name, value] of changed) {
      if (value === '') delete record.properties[name];
      else record.properties[name] = value;
      record.history[name] = [{ value, timestamp: iso(now), sourceType }, ...(record.history[name] ?? [])];
    }
    this.touch(record, now);
    this.index(state, record, before);
    for (const [propertyName, propertyValue] of changed)
      this.emit({ kind: 'propertyChange', record, propertyName, propertyValue });
    return record;
  }

  archive(state: TypeState, record: StoredRecord): void {
    if (record.archived) return;
    const now = this.now();
    record.archived = true;
    record.archivedAt = now;
    this.touch(record, now);
    this.index(state, record, record.properties);
    this.emit({ kind: 'deletion', record });
  }

  /** What search sees of a record now: nothing until a new record is indexed, the older state meanwhile. */
  searchView(record: StoredRecord): Snapshot | undefined {
    const now = this.now();
    const { current, prior } = record.search;
    return now >= current.visibleFrom ? current : prior;
  }

  private touch(record: StoredRecord, now: number): void {
    const { type } = record;
    record.updatedAt = now;
    record.properties[type.modifiedProperty] = iso(now);
    if (type.name === 'contacts') record.properties.hs_lastmodifieddate = iso(now);
    const { current } = record.search;
    // The index keeps showing the last state it had caught up with until this one is indexed.
    const prior = now >= current.visibleFrom ? current : record.search.prior;
    record.search = {
      current: {
        properties: { ...record.properties },
        archived: record.archived,
        visibleFrom: now + this.searchLagMs(),
      },
      ...(prior && { prior }),
    };
  }

  private index(state: TypeState, record: StoredRecord, before: Record<string, string>): void {
    for (const [property, index] of state.unique) {
      const old = before[property];
      if (old !== undefined && index.get(normalize(property, old)) === record.id)
        index.delete(normalize(property, old));
      const value = record.properties[property];
      if (!record.archived && value !== undefined && value !== '')
        index.set(normalize(property, value), record.id);
    }
  }

  /** Keeps unique indexes in step when a property becomes unique (a new custom property). */
  addProperty(state: TypeState, definition: PropertyDefinition): void {
    state.properties.set(definition.name, definition);
    if (definition.hasUniqueValue && !state.unique.has(definition.name))
      state.unique.set(definition.name, new Map());
  }

  private addType(type: ObjectType, properties: PropertyDefinition[]): void {
    const state: TypeState = {
      type,
      properties: new Map(),
      records: new Map(),
      order: [],
      unique: new Map(),
    };
    for (const p of properties) this.addProperty(state, p);
    this.types.set(type.name, state);
    for (const alias of [type.name, type.singular, type.objectTypeId])
      this.aliases.set(alias.toLowerCase(), state);
  }

  private emit(change: CrmChange): void {
    for (const listener of this.listeners) listener(change);
  }
}

export type { TypeState };

function normalize(property: string, value: string): string {
  return property === 'email' ? value.trim().toLowerCase() : value;
}

/** First index whose id is greater than `id` (ids are numeric strings in increasing order). */
function upperBound(order: readonly string[], id: number): number {
  let lo = 0;
  let hi = order.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Number(order[mid]) <= id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
