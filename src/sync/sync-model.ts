import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { ResponseSchema } from '../http/http-types.js';
import type { SyncDefinitionInput, SyncRecord } from './define-sync.js';
import type { Checkpoint } from './page.js';

/** What a model fills in of a sync definition; the sync's own entry gives the rest (id, connection…). */
export type SyncModelDefinition<
  Raw = unknown,
  R extends SyncRecord = SyncRecord,
  C extends Checkpoint = Checkpoint,
> = Omit<SyncDefinitionInput<Raw, R, C>, 'id' | 'connection' | 'model'>;

/**
 * A connector's sync model (HubSpot `contacts`, Graph `messages`): the same definition a code-defined
 * sync writes, made from the options of a config entry `syncs: [{ id, connection, model, options }]`.
 *
 * ```ts
 * export const contacts = defineSyncModel({
 *   name: 'hubspot.contacts',
 *   options: z.object({ properties: z.array(z.string()).default([]) }),
 *   define: (options) => ({ key: 'id', schema, fetch: …, push: … }),
 * });
 * // in code: defineSync({ id: 'contacts', connection: 'crm', ...contacts.define({ properties: [] }) })
 * ```
 */
export interface SyncModel<
  Options = unknown,
  Raw = unknown,
  R extends SyncRecord = SyncRecord,
  C extends Checkpoint = Checkpoint,
> {
  /** `<provider>.<model>`: how a config entry names it. */
  readonly name: string;
  /** One line for `patchbay syncs models` and the docs. */
  readonly description?: string;
  /** Validates (and defaults) the entry's `options`; the message of a failure names the field. */
  readonly options?: ResponseSchema<Options>;
  define(options: Options): SyncModelDefinition<Raw, R, C>;
}

/**
 * A model of any types, as a connector lists them and the sync module looks them up by name: the
 * entry's options are checked by the model's own schema and the definition by `defineSync` at run time.
 */
// biome-ignore lint/suspicious/noExplicitAny: a list of models of different types (their record types vary both ways)
export type AnySyncModel = SyncModel<any, any, any, any>;

export const MODEL_NAME = /^[a-z0-9][a-z0-9_-]*\.[a-zA-Z0-9][a-zA-Z0-9_-]*$/;

export function defineSyncModel<Options, Raw, R extends SyncRecord, C extends Checkpoint>(
  model: SyncModel<Options, Raw, R, C>,
): SyncModel<Options, Raw, R, C> {
  if (typeof model?.name !== 'string' || !MODEL_NAME.test(model.name)) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `defineSyncModel: name must be "<provider>.<model>" (hubspot.contacts), got ${JSON.stringify(model?.name)}`,
    );
  }
  if (typeof model.define !== 'function') {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `defineSyncModel ${model.name}: define must be a function`,
    );
  }
  return Object.freeze({ ...model });
}
