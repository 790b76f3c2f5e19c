import { parseDuration } from '../core/config/units.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { ResponseSchema } from '../http/http-types.js';
import { validatePattern } from '../webhooks/delivery/event-filter.js';
import { type ConflictPolicy, type ConflictStrategy, parseConflictPolicy } from './conflict-policy.js';
import type { FetchContext, SyncContext } from './fetch-context.js';
import type { IntegrityCheck } from './integrity.js';
import type { Checkpoint, SyncPage } from './page.js';
import type { LocalChange, PushFunction, PushOutcome } from './push.js';
import { parseSchedule, type Schedule, type ScheduleInput } from './schedule.js';

/** A stored record: a JSON object. */
export type SyncRecord = Record<string, unknown>;

/**
 * A sync as written in code (`defineSync`) or produced by a connector's model or a declarative config
 * entry: the three reach the runner through this one shape.
 */
export interface SyncDefinitionInput<
  Raw = unknown,
  R extends SyncRecord = SyncRecord,
  C extends Checkpoint = Checkpoint,
> {
  /** 1–64 letters, digits, "-" or "_"; change events are `<id>.record.created|updated|deleted`. */
  id: string;
  /** The connection whose HTTP client `ctx.http` is. Optional for syncs that call nothing over HTTP. */
  connection?: string;
  /** What it syncs, for people: a connector model (`hubspot.contacts`), `declarative`, `code` (default). */
  model?: string;
  /** The record's external id: a (dot) path in the validated record, or a function of it. */
  key: string | ((record: R) => string | number);
  /** Every record is validated against it (zod, or anything with `safeParse`); failures are quarantined. */
  schema: ResponseSchema<R>;
  /** Yields pages, streamed; see `SyncPage` and `FetchContext`. */
  fetch(ctx: FetchContext<C>): AsyncIterable<SyncPage<Raw>>;
  /** Maps the provider's shape to the model (renames, coercion, enum maps, computed fields). */
  transform?(raw: Raw): unknown;
  /** Writes local changes to the source; with it the sync is bidirectional. */
  push?: PushFunction<R>;
  /** Defaults to `manual` (runs by hand and by `triggers`). */
  schedule?: ScheduleInput;
  /** Fields left out of the change hash (timestamps the source bumps without a change): dot paths. */
  volatile?: readonly string[];
  /** The source's modification time of a record (a path or a function): for `last-writer-wins`. */
  modifiedAt?: string | ((record: R) => number | string | Date | null | undefined);
  /** When both sides changed a record. Defaults to `source-wins`. */
  conflicts?: ConflictPolicy | ConflictStrategy;
  /** The delete safety valve (see `DeletePolicy`). */
  deletes?: Partial<DeletePolicy>;
  /** Longest one run may take before it stops (its progress is kept). Defaults to 1 h. */
  timeLimit?: string | number;
  /** Changes per `push` call. Defaults to 100. */
  pushBatchSize?: number;
  /** Event filters (`crm.contact.*`) whose events request an incremental run (a provider's webhook). */
  triggers?: readonly string[];
  /**
   * `false` when the source cannot list what changed: every run is then a full read, which deletes what
   * it did not see. Defaults to true.
   */
  incremental?: boolean;
  /**
   * Compares both sides after each successful run (counts, sums per group): the report is the run's
   * (`report.integrity`), logged and counted. See `IntegrityCheck`.
   */
  integrity?: IntegrityCheck<R>;
}

/**
 * A complete full read deletes the records it did not see, unless they are more than `maxShare` of the
 * stored records and more than `floor` of them: then the deletes are held (`sync.deletes_held`) until
 * confirmed through the API or the CLI.
 */
export interface DeletePolicy {
  /** Defaults to 0.2 (20 %). 1 turns the valve off. */
  maxShare: number;
  /** Deletes of at most this many records are never held. Defaults to 10. */
  floor: number;
}

/**
 * A checked, normalised definition, as the runner uses it. Its functions are methods, so a definition
 * of specific record types is usable where any definition is expected.
 */
export interface SyncDefinition<
  Raw = unknown,
  R extends SyncRecord = SyncRecord,
  C extends Checkpoint = Checkpoint,
> {
  readonly id: string;
  readonly connection: string | undefined;
  readonly model: string;
  keyOf(record: R): string;
  /** The key path when the key is a path (to find a quarantined raw record's id). */
  readonly keyPath: string | undefined;
  readonly schema: ResponseSchema<R>;
  fetch(ctx: FetchContext<C>): AsyncIterable<SyncPage<Raw>>;
  transform?(raw: Raw): unknown;
  push?(ctx: SyncContext, changes: readonly LocalChange<R>[]): Promise<readonly PushOutcome<R>[]>;
  readonly schedule: Schedule;
  readonly volatile: readonly string[];
  modifiedAt?(record: R): number | undefined;
  readonly conflicts: ConflictPolicy;
  readonly deletes: DeletePolicy;
  readonly timeLimitMs: number;
  readonly pushBatchSize: number;
  readonly triggers: readonly string[];
  readonly incremental: boolean;
  integrity?(ctx: SyncContext, local: AsyncIterable<R>): ReturnType<IntegrityCheck>;
}

export const SYNC_ID = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;
export const DEFAULT_TIME_LIMIT_MS = 3_600_000;
export const DEFAULT_DELETE_POLICY: DeletePolicy = { maxShare: 0.2, floor: 10 };
const DEFINITION_KEYS = [
  'id',
  'connection',
  'model',
  'key',
  'schema',
  'fetch',
  'transform',
  'push',
  'schedule',
  'volatile',
  'modifiedAt',
  'conflicts',
  'deletes',
  'timeLimit',
  'pushBatchSize',
  'triggers',
  'incremental',
  'integrity',
];

/**
 * Checks a sync definition and returns it normalised. Every problem is a `CONFIG_INVALID` error naming
 * the field (under `where`, e.g. `syncs[2]` for a config entry).
 *
 * ```ts
 * const contacts = defineSync({
 *   id: 'contacts', connection: 'crm', key: 'id', schedule: '15m',
 *   schema: z.object({ id: z.string(), email: z.string() }),
 *   async *fetch(ctx) {
 *     let after = ctx.checkpoint as string | undefined;
 *     do {
 *       const { body } = await ctx.http.request({ path: '/contacts', query: { after }, signal: ctx.signal });
 *       after = body.next;
 *       yield { records: body.results, checkpoint: after ?? null };
 *     } while (after);
 *   },
 * });
 * ```
 */
export function defineSync<
  Raw = unknown,
  R extends SyncRecord = SyncRecord,
  C extends Checkpoint = Checkpoint,
>(input: SyncDefinitionInput<Raw, R, C>, where = 'defineSync'): SyncDefinition<Raw, R, C> {
  if (typeof input !== 'object' || input === null) throw invalid(where, 'must be an object');
  for (const key of Object.keys(input)) {
    if (!DEFINITION_KEYS.includes(key)) throw invalid(`${where}.${key}`, 'is not a sync definition field');
  }
  const at = (field: string) => `${where}.${field}`;
  if (typeof input.id !== 'string' || !SYNC_ID.test(input.id)) {
    throw invalid(at('id'), `must be 1–64 letters, digits, "-" or "_", got ${JSON.stringify(input.id)}`);
  }
  if (input.connection !== undefined && (typeof input.connection !== 'string' || input.connection === '')) {
    throw invalid(at('connection'), 'must be a connection id');
  }
  if (typeof input.fetch !== 'function') throw invalid(at('fetch'), 'must be an async generator function');
  if (typeof input.schema?.safeParse !== 'function') {
    throw invalid(at('schema'), 'must be a schema with safeParse (zod)');
  }
  optionalFunction(input.transform, at('transform'));
  optionalFunction(input.push, at('push'));
  optionalFunction(input.integrity, at('integrity'));
  const { keyOf, keyPath } = keyFunction(input.key, at('key'));
  const volatile = input.volatile ?? [];
  if (!Array.isArray(volatile) || volatile.some((v) => typeof v !== 'string' || v === '')) {
    throw invalid(at('volatile'), 'must be a list of field paths');
  }
  const triggers = input.triggers ?? [];
  if (!Array.isArray(triggers)) throw invalid(at('triggers'), 'must be a list of event filters');
  for (const pattern of triggers) {
    const problem = typeof pattern === 'string' ? validatePattern(pattern) : 'must be a string';
    if (problem) throw invalid(at('triggers'), problem);
  }
  const timeLimitMs = parseDuration(input.timeLimit ?? DEFAULT_TIME_LIMIT_MS);
  if (timeLimitMs === undefined || timeLimitMs < 1000) {
    throw invalid(
      at('timeLimit'),
      `must be a duration of at least 1s, got ${JSON.stringify(input.timeLimit)}`,
    );
  }
  const pushBatchSize = input.pushBatchSize ?? 100;
  if (!Number.isInteger(pushBatchSize) || pushBatchSize < 1 || pushBatchSize > 10_000) {
    throw invalid(
      at('pushBatchSize'),
      `must be an integer from 1 to 10000, got ${JSON.stringify(pushBatchSize)}`,
    );
  }
  const modifiedAt = modifiedAtFunction(input.modifiedAt, at('modifiedAt'));
  return Object.freeze({
    id: input.id,
    connection: input.connection,
    model: input.model ?? 'code',
    keyOf,
    keyPath,
    schema: input.schema,
    fetch: input.fetch,
    ...(input.transform && { transform: input.transform }),
    ...(input.push && { push: input.push }),
    ...(input.integrity && { integrity: input.integrity }),
    ...(modifiedAt && { modifiedAt }),
    schedule: parseSchedule(input.schedule, at('schedule')),
    volatile: [...volatile],
    conflicts: parseConflictPolicy(input.conflicts, at('conflicts')),
    deletes: deletePolicy(input.deletes, at('deletes')),
    timeLimitMs,
    pushBatchSize,
    triggers: [...triggers],
    incremental: input.incremental !== false,
  });
}

/** The value at a dot path of a record (`properties.email`); a key containing dots is tried whole first. */
export function valueAt(value: unknown, path: string): unknown {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as Record<string, unknown>;
  if (Object.hasOwn(record, path)) return record[path];
  const dot = path.indexOf('.');
  if (dot < 0) return undefined;
  return valueAt(record[path.slice(0, dot)], path.slice(dot + 1));
}

/** An external id as stored: a non-empty string of at most 512 characters (numbers are accepted as text). */
export function externalId(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value !== '' && value.length <= 512) return value;
  return undefined;
}

function keyFunction<R>(
  key: unknown,
  where: string,
): { keyOf: (record: R) => string; keyPath: string | undefined } {
  if (typeof key === 'string' && key !== '') {
    return {
      keyPath: key,
      keyOf: (record) => {
        const id = externalId(valueAt(record, key));
        if (id === undefined)
          throw new PatchbayError(ErrorCode.RESPONSE_INVALID, `${key}: the record has no id here`);
        return id;
      },
    };
  }
  if (typeof key === 'function') {
    return {
      keyPath: undefined,
      keyOf: (record) => {
        const id = externalId(key(record));
        if (id === undefined)
          throw new PatchbayError(ErrorCode.RESPONSE_INVALID, 'key: the key function gave no id');
        return id;
      },
    };
  }
  throw invalid(where, 'must be a field path ("id") or a function returning the id');
}

function modifiedAtFunction<R>(
  value: unknown,
  where: string,
): ((record: R) => number | undefined) | undefined {
  if (value === undefined) return undefined;
  const read =
    typeof value === 'string' && value !== ''
      ? (record: R) => valueAt(record, value)
      : typeof value === 'function'
        ? (value as (record: R) => unknown)
        : undefined;
  if (!read) throw invalid(where, 'must be a field path or a function');
  return (record) => toMillis(read(record));
}

/** Epoch ms from a Date, a number (ms, or seconds when below 1e11) or a date-time string. */
export function toMillis(value: unknown): number | undefined {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e11 ? value * 1000 : value;
  if (typeof value === 'string' && value !== '') {
    if (/^\d+$/.test(value)) return toMillis(Number(value));
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? undefined : ms;
  }
  return undefined;
}

function deletePolicy(value: Partial<DeletePolicy> | undefined, where: string): DeletePolicy {
  const policy = { ...DEFAULT_DELETE_POLICY, ...value };
  if (typeof policy.maxShare !== 'number' || !(policy.maxShare >= 0 && policy.maxShare <= 1)) {
    throw invalid(`${where}.maxShare`, `must be a share from 0 to 1, got ${JSON.stringify(policy.maxShare)}`);
  }
  if (!Number.isInteger(policy.floor) || policy.floor < 0) {
    throw invalid(`${where}.floor`, `must be an integer ≥ 0, got ${JSON.stringify(policy.floor)}`);
  }
  return policy;
}

function optionalFunction(value: unknown, where: string): void {
  if (value !== undefined && typeof value !== 'function') throw invalid(where, 'must be a function');
}

function invalid(where: string, message: string): PatchbayError {
  return new PatchbayError(ErrorCode.CONFIG_INVALID, `${where}: ${message}`);
}
