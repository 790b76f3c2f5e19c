import type { ObjectType } from './object-types.js';

export interface AssociationType {
  category: 'HUBSPOT_DEFINED' | 'USER_DEFINED';
  typeId: number;
  label: string | null;
}

/**
 * HubSpot-defined association type ids between standard objects, both directions: the unlabeled
 * (default) one first, then "Primary" where HubSpot has one.
 * https://developers.hubspot.com/docs/api/crm/associations#association-type-id-values
 */
const DEFINED: Record<string, { unlabeled: number; primary?: number }> = {
  'contact:company': { unlabeled: 279, primary: 1 },
  'company:contact': { unlabeled: 280, primary: 2 },
  'deal:contact': { unlabeled: 3 },
  'contact:deal': { unlabeled: 4 },
  'deal:company': { unlabeled: 341, primary: 5 },
  'company:deal': { unlabeled: 342, primary: 6 },
  'contact:ticket': { unlabeled: 15 },
  'ticket:contact': { unlabeled: 16 },
  'ticket:company': { unlabeled: 339, primary: 26 },
  'company:ticket': { unlabeled: 340, primary: 25 },
  'deal:ticket': { unlabeled: 27 },
  'ticket:deal': { unlabeled: 28 },
};

type Edges = Map<string, Map<string, Map<string, Map<number, AssociationType>>>>;

/** Associations between records, kept on both sides (HubSpot stores the inverse type on the other record). */
export class AssociationStore {
  /** `<typeId>:<recordId>` → the other type's id → the other record's id → the types. */
  private edges: Edges = new Map();
  private generated = new Map<string, number>();

  constructor(readonly limitPerRecord: () => number) {}

  reset(): void {
    this.edges = new Map();
    this.generated = new Map();
  }

  /** The default (unlabeled) type from one object type to another, and its inverse. */
  defaultType(from: ObjectType, to: ObjectType): AssociationType {
    return { category: 'HUBSPOT_DEFINED', typeId: this.ids(from, to).unlabeled, label: null };
  }

  /** Is `typeId` a type from `from` to `to`? */
  knows(from: ObjectType, to: ObjectType, typeId: number): boolean {
    const ids = this.ids(from, to);
    return typeId === ids.unlabeled || typeId === ids.primary;
  }

  count(from: ObjectType, fromId: string, to: ObjectType): number {
    return this.edges.get(`${from.objectTypeId}:${fromId}`)?.get(to.objectTypeId)?.size ?? 0;
  }

  has(from: ObjectType, fromId: string, to: ObjectType, toId: string): boolean {
    return this.edges.get(`${from.objectTypeId}:${fromId}`)?.get(to.objectTypeId)?.has(toId) ?? false;
  }

  associate(
    from: ObjectType,
    fromId: string,
    to: ObjectType,
    toId: string,
    types: readonly AssociationType[],
  ): void {
    for (const type of types) {
      this.side(from, fromId, to, toId).set(type.typeId, type);
      const inverse = this.inverse(from, to, type);
      this.side(to, toId, from, fromId).set(inverse.typeId, inverse);
    }
  }

  remove(from: ObjectType, fromId: string, to: ObjectType, toId: string): void {
    this.edges.get(`${from.objectTypeId}:${fromId}`)?.get(to.objectTypeId)?.delete(toId);
    this.edges.get(`${to.objectTypeId}:${toId}`)?.get(from.objectTypeId)?.delete(fromId);
  }

  /** Every association of a record to one type, by the other record's id. */
  list(
    from: ObjectType,
    fromId: string,
    to: ObjectType,
  ): { toObjectId: string; associationTypes: AssociationType[] }[] {
    const byId = this.edges.get(`${from.objectTypeId}:${fromId}`)?.get(to.objectTypeId);
    if (!byId) return [];
    return [...byId.entries()]
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([toObjectId, types]) => ({ toObjectId, associationTypes: [...types.values()] }));
  }

  /** The v3 name of a type (`contact_to_company`, `contact_to_company_unlabeled`). */
  v3Name(from: ObjectType, to: ObjectType, type: AssociationType): string {
    const base = `${from.singular}_to_${to.singular}`;
    return type.typeId === this.ids(from, to).unlabeled ? `${base}_unlabeled` : base;
  }

  private side(from: ObjectType, fromId: string, to: ObjectType, toId: string): Map<number, AssociationType> {
    const byType = child(this.edges, `${from.objectTypeId}:${fromId}`);
    const byId = child(byType, to.objectTypeId);
    return child(byId, toId);
  }

  private inverse(from: ObjectType, to: ObjectType, type: AssociationType): AssociationType {
    const there = this.ids(from, to);
    const back = this.ids(to, from);
    const typeId =
      type.typeId === there.primary && back.primary !== undefined ? back.primary : back.unlabeled;
    return { category: type.category, typeId, label: typeId === back.primary ? 'Primary' : null };
  }

  private ids(from: ObjectType, to: ObjectType): { unlabeled: number; primary?: number } {
    const defined = DEFINED[`${from.singular}:${to.singular}`];
    if (defined) return defined;
    // Pairs with a custom object get ids of their own, stable for the fake's life.
    const key = `${from.objectTypeId}:${to.objectTypeId}`;
    const known = this.generated.get(key);
    if (known !== undefined) return { unlabeled: known };
    const id = 5000 + this.generated.size;
    this.generated.set(key, id);
    return { unlabeled: id };
  }
}

/** The map under `key`, made empty when missing. */
function child<K, V extends Map<unknown, unknown>>(map: Map<K, V>, key: K): V {
  const found = map.get(key);
  if (found) return found;
  const made = new Map() as V;
  map.set(key, made);
  return made;
}
