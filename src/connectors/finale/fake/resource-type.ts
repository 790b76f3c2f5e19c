import type { Collection, Entity, FinaleStore } from './finale-store.js';

/** A refusal a resource raises; the route answers it with its status and Finale's error body. */
export class FinaleError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const refuse = (message: string, status = 400): never => {
  throw new FinaleError(status, message);
};

export type Input = Record<string, unknown>;

/** How one collection behaves: its fields, what creates and updates it, its state-changing actions. */
export interface ResourceType {
  readonly collection: Collection;
  readonly idField: string;
  readonly urlField: string;
  /** The list answer's columns, in order. */
  readonly fields: readonly string[];
  /** The top-level scalar fields `?filter=` accepts. */
  readonly scalars: ReadonlySet<string>;
  /** POST to the collection; returns the new entity's id. */
  create?(input: Input, store: FinaleStore): string;
  /** POST to the entity's URL: the fields given change, others stay. */
  update?(entity: Entity, input: Input, store: FinaleStore): void;
  /** Action URLs (`/lock`, `/commit`…): only those valid in the entity's state are offered. */
  readonly actions?: Readonly<Record<string, Action>>;
}

export interface Action {
  /** The entity field naming its URL (`actionUrlLock`). */
  readonly field: string;
  available(entity: Entity): boolean;
  run(entity: Entity, store: FinaleStore): void;
}

/** The entity as Finale answers it: its fields plus the action URLs valid now. */
export function view(type: ResourceType, entity: Entity): Record<string, unknown> {
  const out: Record<string, unknown> = { ...entity };
  for (const [name, action] of Object.entries(type.actions ?? {})) {
    out[action.field] = action.available(entity) ? `${entity[type.urlField] as string}/${name}` : null;
  }
  return out;
}

export const text = (input: Input, field: string, required = false): string | undefined => {
  const value = input[field];
  if (value === undefined || value === null) {
    if (required) refuse(`${field} is required`);
    return undefined;
  }
  if (typeof value !== 'string' || value === '') refuse(`${field} must be a non-empty string`);
  return value as string;
};

export const oneOf = <T extends string>(
  input: Input,
  field: string,
  values: readonly T[],
  fallback?: T,
): T => {
  const value = input[field] ?? fallback;
  if (typeof value !== 'string' || !values.includes(value as T)) {
    refuse(`${field} must be one of ${values.join(', ')}`);
  }
  return value as T;
};

/** Fields a client may not set through an update: the id, the URL, the timestamps, the status. */
export function checkUpdatable(type: ResourceType, entity: Entity, input: Input): void {
  for (const field of [type.idField, type.urlField, 'createdDate', 'lastUpdatedDate']) {
    if (input[field] !== undefined && input[field] !== entity[field]) refuse(`${field} cannot be changed`);
  }
  if (input.statusId !== undefined && input.statusId !== entity.statusId && type.actions) {
    refuse('statusId changes through the action URLs');
  }
}
