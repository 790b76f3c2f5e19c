import { z } from 'zod';
import { durationSchema as duration, durationIssue } from '../../core/config/duration.js';
import { parseDuration } from '../../core/config/units.js';
import { errorMessage } from '../../core/errors.js';
import type { HttpClient } from '../../http/create-http-client.js';
import { isCursorExpired } from '../../sync/cursor-expired.js';
import type { FetchContext } from '../../sync/fetch-context.js';
import type { SyncPage } from '../../sync/page.js';
import { defineSyncModel, type SyncModel, type SyncModelDefinition } from '../../sync/sync-model.js';
import { HubSpotApi } from './hubspot-api.js';
import type { HubSpotObjects } from './hubspot-objects.js';
import { checkObjectType, modifiedProperty } from './object-type.js';
import type { HubSpotAssociation, HubSpotObject } from './schemas.js';
import { crmPush } from './sync-push.js';
import {
  type CrmRecord,
  crmRecord,
  crmRecordSchema,
  type RecordShape,
  withAssociations,
} from './sync-records.js';

/**
 * Where a HubSpot read resumes. `since`: records last modified at or after it (less the lookback) are
 * read next, by search. `archivedSince`: records archived at or after it (less the lookback) are
 * deletes. `list`: a listing under way (a full read, the first run, or an associations re-listing),
 * its next `after`. `archivedAfter`: the archived listing of an incremental run under way. `listedAt`:
 * when the last listing began (checkpoints written before it existed have none).
 */
export type CrmCheckpoint = {
  since: number;
  archivedSince: number;
  list: string | null;
  archivedAfter: string | null;
  listedAt?: number;
};

/** A duration, or `false` for never. */
const durationOrOff = (what: string) =>
  z.union([z.string(), z.number(), z.boolean()]).transform((value, ctx) => {
    const ms = value === false ? false : typeof value === 'boolean' ? undefined : parseDuration(value);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: durationIssue(what, value, 'false') });
      return z.NEVER;
    }
    return ms;
  });

const objectType = z.string().superRefine((type, ctx) => {
  try {
    checkObjectType(type);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: errorMessage(error) });
  }
});

const propertyName = z.string().regex(/^[a-z0-9_]{1,100}$/i, 'must be a HubSpot property name');
const SOURCE_ID = /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/;

const commonOptions = {
  /** Properties to read besides the model's own. */
  properties: z.array(propertyName).default([]),
  /** Types whose associated ids each record carries; the model's default when absent. */
  associations: z.array(objectType).optional(),
  /** How far back each incremental search starts before the last watermark (search lags writes). */
  lookback: duration('lookback').default(120_000),
  /**
   * A unique property (`email`, `domain`) that identifies records instead of HubSpot's id: the
   * records' key, and what a push upserts by (new local records are created).
   */
  idProperty: propertyName.optional(),
  /** Read the archived records in each incremental run, to see deletes (a listing of them). Defaults to true. */
  archived: z.boolean().default(true),
  /** The id of the `hubspot-v3` webhook source whose events of this type request an incremental run. */
  webhookSource: z
    .string()
    .regex(SOURCE_ID, 'must be a source id (1–64 letters, digits, "-" or "_")')
    .optional(),
  /** A push naming properties the type lacks creates them (as strings) and writes again. Defaults to false. */
  createMissingProperties: z.boolean().default(false),
  /**
   * How old the last listing may get before an incremental run lists every record again, to read
   * associations changed alone (HubSpot does not move the last-modified date for those, so search never
   * returns them). `false` never re-lists. Defaults to 24 h: one request per 100 records a day.
   */
  associationsEvery: durationOrOff('associationsEvery').default(86_400_000),
};

const modelOptions = z.strictObject(commonOptions);
export type CrmModelOptions = z.output<typeof modelOptions>;

interface ModelDefaults {
  properties: readonly string[];
  associations: readonly string[];
  /** The `<object>` of HubSpot's `<object>.creation|propertyChange|deletion…` webhook events. */
  webhookObject?: string;
}

const DEFAULTS: Record<'contacts' | 'companies' | 'deals', ModelDefaults> = {
  contacts: {
    properties: ['email', 'firstname', 'lastname', 'phone', 'company', 'lifecyclestage', 'hubspot_owner_id'],
    associations: ['companies'],
    webhookObject: 'contact',
  },
  companies: {
    properties: ['name', 'domain', 'industry', 'phone', 'city', 'country', 'hubspot_owner_id'],
    associations: ['contacts'],
    webhookObject: 'company',
  },
  deals: {
    properties: ['dealname', 'amount', 'dealstage', 'pipeline', 'closedate', 'hubspot_owner_id'],
    associations: ['contacts', 'companies'],
    webhookObject: 'deal',
  },
};

const apis = new WeakMap<HttpClient, HubSpotApi>();
/** One API object per connection client, so the property cache is shared by its runs. */
function apiFor(client: HttpClient): HubSpotApi {
  let api = apis.get(client);
  if (!api) {
    api = new HubSpotApi(client);
    apis.set(client, api);
  }
  return api;
}

/**
 * The definition of a sync of one object type.
 * - The first run and full reads list every record (`GET /crm/v3/objects/{type}` by `paging.next.after`,
 *   associations inline); an expired `after` fails with the sync engine's `CursorExpiredError`, and the
 *   runner starts the full read again (its sweep finds the deletes).
 * - Incremental runs search on the last-modified date from the watermark less `lookback` (search lags
 *   writes), windowed past the 10,000 results one search returns, associations read by v4 batches; then
 *   the archived records are listed and those archived since the last run are deletes.
 * - Pushes go by batch update (by id) or batch upsert (by `idProperty`), per-record outcomes.
 */
export function crmDefinition(
  type: string,
  options: CrmModelOptions,
  defaults: ModelDefaults,
): SyncModelDefinition<HubSpotObject, CrmRecord, CrmCheckpoint> {
  const modified = modifiedProperty(type);
  const shape: RecordShape = {
    properties: [
      ...new Set([
        ...defaults.properties,
        ...options.properties,
        ...(options.idProperty ? [options.idProperty] : []),
        modified,
      ]),
    ],
    associations: [...new Set(options.associations ?? defaults.associations)],
  };
  const key = options.idProperty ? `properties.${options.idProperty}` : 'id';
  const triggers =
    options.webhookSource && defaults.webhookObject
      ? [`${options.webhookSource}.${defaults.webhookObject}.*`]
      : [];

  async function* fetch(ctx: FetchContext<CrmCheckpoint>): AsyncGenerator<SyncPage<HubSpotObject>> {
    const objects = apiFor(ctx.http).objects(type);
    const at = ctx.checkpoint;
    if (ctx.mode === 'full' || at === undefined || at.list !== null) {
      yield* listing(ctx, objects, at);
      return;
    }
    if (associationsStale(ctx, at)) {
      // Changes of properties meanwhile are found by the next search: `since` stays where it is.
      yield* listing(ctx, objects, { ...at, listedAt: ctx.now() }, { fresh: true });
      return;
    }
    const since = yield* changes(ctx, objects, at);
    if (options.archived) yield* archivedSince(ctx, objects, { ...at, since });
    else yield { records: [], checkpoint: { ...at, since, archivedSince: ctx.startedAt } };
  }

  /**
   * Every record, by list pages, from `at.list` (or from the start when `fresh`); records changed
   * meanwhile are read by the next incremental run.
   */
  async function* listing(
    ctx: FetchContext<CrmCheckpoint>,
    objects: HubSpotObjects,
    at: CrmCheckpoint | undefined,
    { fresh = false } = {},
  ): AsyncGenerator<SyncPage<HubSpotObject>> {
    // A full read whose last page is committed: nothing is left to list.
    if (!fresh && at !== undefined && at.list === null) return;
    const since = at?.since ?? ctx.startedAt;
    const archivedSince = at?.archivedSince ?? since;
    const listedAt = at?.listedAt ?? ctx.startedAt;
    const read = (after: string | undefined) => {
      const page = objects.page({
        properties: shape.properties,
        associations: shape.associations,
        ...(after !== undefined && { after }),
        signal: ctx.signal,
      });
      // A page read ahead that is never awaited (the run stopped) must not be an unhandled rejection.
      page.catch(() => {});
      return page;
    };
    let next = read(fresh ? undefined : (at?.list ?? undefined));
    for (;;) {
      const page = await next;
      // One cursor is one request at a time: the next page is read while the runner commits this one,
      // or the listing goes at the pace of a page's round trip plus its commit, not at the quota's.
      if (page.after !== undefined) next = read(page.after);
      yield {
        records: page.results,
        checkpoint: { since, archivedSince, list: page.after ?? null, archivedAfter: null, listedAt },
      };
      if (page.after === undefined) return;
    }
  }

  /** What changed since the watermark, by search; returns the new watermark. */
  async function* changes(
    ctx: FetchContext<CrmCheckpoint>,
    objects: HubSpotObjects,
    at: CrmCheckpoint,
  ): AsyncGenerator<SyncPage<HubSpotObject>, number> {
    let since = at.since;
    const pages = objects.searchAll(
      { since: Math.max(0, at.since - options.lookback), properties: shape.properties },
      { signal: ctx.signal },
    );
    for await (const page of pages) {
      const records = await associated(ctx, page.results);
      if (page.watermark !== undefined && page.watermark > since) since = page.watermark;
      yield { records, checkpoint: { ...at, since } };
    }
    return since;
  }

  /** The archived records, those archived since the last run as deletes. */
  async function* archivedSince(
    ctx: FetchContext<CrmCheckpoint>,
    objects: HubSpotObjects,
    at: CrmCheckpoint,
  ): AsyncGenerator<SyncPage<HubSpotObject>> {
    const from = at.archivedSince - options.lookback;
    let after = at.archivedAfter ?? undefined;
    let restarted = false;
    for (;;) {
      let page: Awaited<ReturnType<HubSpotObjects['page']>>;
      try {
        page = await objects.page({
          archived: true,
          properties: options.idProperty ? [options.idProperty] : [],
          ...(after !== undefined && { after }),
          signal: ctx.signal,
        });
      } catch (error) {
        // A listing resumed too late: deletes are idempotent, so it starts over (once).
        if (!isCursorExpired(error) || after === undefined || restarted) throw error;
        restarted = true;
        after = undefined;
        continue;
      }
      const deleted = page.results
        .filter((r) => millis(r.archivedAt ?? r.updatedAt) >= from)
        .map((r) => (options.idProperty ? r.properties[options.idProperty] : r.id))
        .filter((id): id is string => typeof id === 'string' && id !== '');
      after = page.after;
      yield {
        records: [],
        deleted,
        checkpoint: {
          ...at,
          archivedSince: after === undefined ? ctx.startedAt : at.archivedSince,
          archivedAfter: after ?? null,
        },
      };
      if (after === undefined) return;
    }
  }

  /** Whether the last listing is older than `associationsEvery` (for a model that reads associations). */
  function associationsStale(ctx: FetchContext<CrmCheckpoint>, at: CrmCheckpoint): boolean {
    if (options.associationsEvery === false || shape.associations.length === 0) return false;
    // A checkpoint from before `listedAt` existed: its watermark is as old as its last listing, at most.
    return ctx.now() - (at.listedAt ?? at.since) >= options.associationsEvery;
  }

  /** A search page's records with their associations (search returns none), one v4 batch per type. */
  async function associated(ctx: FetchContext, records: HubSpotObject[]): Promise<HubSpotObject[]> {
    if (shape.associations.length === 0 || records.length === 0) return records;
    const api = apiFor(ctx.http);
    const ids = records.map((r) => r.id);
    const byType = new Map<string, Map<string, HubSpotAssociation[]>>();
    for (const to of shape.associations) {
      byType.set(to, await api.associations.read(type, to, ids, { signal: ctx.signal }));
    }
    return records.map((r) => withAssociations(r, byType));
  }

  return {
    key,
    schema: crmRecordSchema,
    transform: (raw) => crmRecord(raw, shape),
    modifiedAt: 'updatedAt',
    // HubSpot moves these on every write, also of properties the sync does not read.
    volatile: ['updatedAt', `properties.${modified}`, 'properties.hs_lastmodifieddate'],
    triggers,
    fetch,
    push: (ctx, pending) =>
      crmPush(apiFor(ctx.http).objects(type), pending, {
        shape,
        ...(options.idProperty && { idProperty: options.idProperty }),
        createMissingProperties: options.createMissingProperties,
        signal: ctx.signal,
      }),
  };
}

function millis(value: string): number {
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isNaN(ms) ? 0 : ms;
}

function crmModel(
  type: 'contacts' | 'companies' | 'deals',
): SyncModel<CrmModelOptions, HubSpotObject, CrmRecord, CrmCheckpoint> {
  return defineSyncModel({
    name: `hubspot.${type}`,
    description: `HubSpot ${type} with their associations, incremental by last-modified date, bidirectional`,
    options: modelOptions,
    define: (options: CrmModelOptions) => crmDefinition(type, options, DEFAULTS[type]),
  });
}

export const hubspotContacts = crmModel('contacts');
export const hubspotCompanies = crmModel('companies');
export const hubspotDeals = crmModel('deals');

const objectsOptions = z.strictObject({ type: objectType, ...commonOptions });

/** `hubspot.objects`: any object type (tickets, a custom object), with only the properties named. */
export const hubspotObjects = defineSyncModel({
  name: 'hubspot.objects',
  description: 'Any HubSpot object type (options.type: tickets, a custom object), incremental',
  options: objectsOptions,
  define: ({ type, ...options }: z.output<typeof objectsOptions>) =>
    crmDefinition(type, options, { properties: [], associations: [] }),
});
