import { z } from 'zod';
import { ConfigError } from '../core/config/load.js';
import type { SyncEntry } from '../core/config/syncs.js';
import { errorMessage } from '../core/errors.js';
import type { ResponseSchema } from '../http/http-types.js';
import { declarativeFetch } from './declarative/declarative-fetch.js';
import { compileMapping } from './declarative/mapping.js';
import { defineSync, type SyncDefinition, type SyncDefinitionInput, type SyncRecord } from './define-sync.js';
import type { AnySyncModel } from './sync-model.js';

export interface ConfigSyncContext {
  /** Connector models by name (`hubspot.contacts`). */
  models: ReadonlyMap<string, AnySyncModel>;
  /** Whether a connection exists (config or API): a sync naming another one is a config error. */
  connectionExists(id: string): Promise<boolean>;
}

/** Fields a model decides; a config entry naming a model cannot set them. */
const MODEL_OWNED = ['transform', 'schema', 'volatile', 'modifiedAt'] as const;

/**
 * The definitions of the config file's `syncs:`, each through `defineSync` like a sync written in
 * code: a connector's model with its options, or a declarative request. Every problem of every entry
 * is reported at once, each naming its path (`syncs[2].connection: unknown connection "crm"`).
 */
export async function syncsFromConfig(
  entries: readonly SyncEntry[],
  context: ConfigSyncContext,
): Promise<SyncDefinition[]> {
  const problems: string[] = [];
  const definitions: SyncDefinition[] = [];
  for (const [i, entry] of entries.entries()) {
    const where = `syncs[${i}]`;
    if (!(await context.connectionExists(entry.connection))) {
      problems.push(`${where}.connection: unknown connection "${entry.connection}"`);
    }
    try {
      definitions.push(
        defineSync(
          entry.model !== undefined ? fromModel(entry, where, context) : fromRequest(entry, where),
          where,
        ),
      );
    } catch (err) {
      // Not `instanceof ConfigError`: PatchbayError's marker check makes every PatchbayError one.
      const listed = (err as { problems?: unknown }).problems;
      problems.push(...(Array.isArray(listed) ? (listed as string[]) : [errorMessage(err)]));
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, undefined);
  return definitions;
}

function common(entry: SyncEntry) {
  return {
    id: entry.id,
    connection: entry.connection,
    ...(entry.schedule !== undefined && { schedule: entry.schedule }),
    ...(entry.conflicts !== undefined && { conflicts: entry.conflicts as never }),
    ...(entry.deletes !== undefined && { deletes: entry.deletes }),
    ...(entry.timeLimit !== undefined && { timeLimit: entry.timeLimit }),
    ...(entry.pushBatchSize !== undefined && { pushBatchSize: entry.pushBatchSize }),
    ...(entry.triggers !== undefined && { triggers: entry.triggers }),
  };
}

function fromModel(entry: SyncEntry, where: string, context: ConfigSyncContext): SyncDefinitionInput {
  const model = context.models.get(entry.model!);
  if (!model) {
    const known = [...context.models.keys()];
    throw new ConfigError(
      [
        `${where}.model: unknown model "${entry.model}" (${known.length > 0 ? `models: ${known.join(', ')}` : 'no connector offers models yet'})`,
      ],
      undefined,
    );
  }
  const owned = MODEL_OWNED.filter((field) => entry[field] !== undefined);
  if (owned.length > 0) {
    throw new ConfigError(
      owned.map((f) => `${where}.${f}: set by the model ${model.name}, not in the config`),
      undefined,
    );
  }
  let options: unknown = entry.options ?? {};
  if (model.options) {
    const parsed = model.options.safeParse(options);
    if (!parsed.success) {
      throw new ConfigError(
        parsed.error.issues.map(
          (issue) => `${where}.options${issue.path.map((p) => `.${String(p)}`).join('')}: ${issue.message}`,
        ),
        undefined,
      );
    }
    options = parsed.data;
  }
  return { ...model.define(options), ...common(entry), model: model.name };
}

function fromRequest(entry: SyncEntry, where: string): SyncDefinitionInput {
  const request = entry.request!;
  if (entry.conflicts !== undefined || entry.pushBatchSize !== undefined) {
    throw new ConfigError([`${where}.conflicts: a declarative sync reads only (it has no push)`], undefined);
  }
  const mapping = entry.transform ? compileMapping(entry.transform) : undefined;
  return {
    ...common(entry),
    model: 'declarative',
    key: request.id,
    schema: recordSchema(entry.schema, `${where}.schema`),
    fetch: declarativeFetch(request, where),
    ...(mapping && { transform: mapping }),
    ...(entry.volatile !== undefined && { volatile: entry.volatile }),
    ...((entry.modifiedAt ?? request.incremental?.field) !== undefined && {
      modifiedAt: (entry.modifiedAt ?? request.incremental?.field)!,
    }),
    incremental: request.incremental !== undefined,
  };
}

/** A JSON Schema from the config, as a validator; without one, any object (its key is checked anyway). */
function recordSchema(
  schema: Record<string, unknown> | undefined,
  where: string,
): ResponseSchema<SyncRecord> {
  if (schema === undefined) return z.record(z.string(), z.unknown());
  try {
    return z.fromJSONSchema(schema as never) as unknown as ResponseSchema<SyncRecord>;
  } catch (err) {
    throw new ConfigError([`${where}: not a JSON Schema Patchbay can use (${errorMessage(err)})`], undefined);
  }
}
