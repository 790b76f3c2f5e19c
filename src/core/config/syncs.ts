import { z } from 'zod';
import { durationSchema as duration } from './duration.js';

/**
 * The `syncs:` entries of the config file. Either `model` names a connector's sync model (with its
 * `options`), or `request` describes a declarative sync of any HTTP API. Shapes are checked here; what
 * needs the rest of Patchbay (the connection exists, the model exists, the schedule and schema parse)
 * is checked when the sync module builds the definitions, with messages naming the same paths.
 */

const id = z
  .string()
  .regex(
    /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/,
    'must be 1–64 letters, digits, "-" or "_", starting with a letter or digit',
  );

const path = z.string().regex(/^[^\s]{1,200}$/, 'must be a dot path such as "data.items" (no spaces)');

const queryValue = z.union([z.string(), z.number(), z.boolean()]);

const paginationSchema = z.discriminatedUnion(
  'style',
  [
    z.strictObject({
      style: z.literal('cursor'),
      /** Where the next cursor is in the body (absent, null or empty: last page). */
      cursorPath: path,
      /** The query parameter it goes back in. */
      cursorParam: z.string().min(1),
    }),
    z.strictObject({ style: z.literal('link') }),
    z.strictObject({
      style: z.literal('next-url'),
      /** Where the next page's URL is in the body. */
      nextPath: path,
    }),
    z.strictObject({
      style: z.literal('offset'),
      offsetParam: z.string().min(1).default('offset'),
      limitParam: z.string().min(1).default('limit'),
      size: z.number().int().min(1).max(10_000).default(100),
    }),
    z.strictObject({
      style: z.literal('page'),
      pageParam: z.string().min(1).default('page'),
      sizeParam: z.string().min(1).default('per_page'),
      size: z.number().int().min(1).max(10_000).default(100),
      /** Number of the first page. Defaults to 1. */
      first: z.number().int().min(0).default(1),
    }),
    z.strictObject({ style: z.literal('none') }),
  ],
  {
    error: () => 'style must be one of "cursor", "link", "next-url", "offset", "page", "none"',
  },
);

export const declarativeRequestSchema = z.strictObject({
  /** Relative to the connection's base URL. */
  path: z.string().startsWith('/', 'must start with "/"'),
  query: z.record(z.string(), queryValue).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  /** How the body reads. Defaults to the response's content type (JSON when unsure). */
  format: z.enum(['json', 'xml', 'csv'], { error: () => 'format must be "json", "xml" or "csv"' }).optional(),
  /** Where the list of records is in the body (`data.items`; XML: `response.data.record`). CSV: the rows. */
  records: path.optional(),
  /** The record's id field. */
  id: path,
  pagination: paginationSchema.default({ style: 'none' }),
  /** Incremental reads: a query parameter fed from the newest value of `field` seen, minus `lookback`. */
  incremental: z
    .strictObject({
      param: z.string().min(1),
      field: path,
      /** How the parameter is written. Defaults to iso. */
      format: z
        .enum(['iso', 'epoch-ms', 'epoch-s'], { error: () => 'format must be iso, epoch-ms or epoch-s' })
        .default('iso'),
      /** Re-read this much before the watermark (clock skew, late writes). Defaults to 0. */
      lookback: duration('lookback').default(0),
    })
    .optional(),
  /** Records listed as deleted (tombstones): `field` equal to `value` (default true). */
  deleted: z.strictObject({ field: path, value: queryValue.default(true) }).optional(),
  /** Statuses meaning "the cursor expired" (restart from the watermark). Defaults to [410]. */
  cursorExpired: z.array(z.number().int().min(400).max(599)).default([410]),
});

/** Mapping from the provider's shape to the model, applied in this order. */
export const mappingSchema = z.strictObject({
  /** `{ "properties.email": "email" }`: a (dot) path of the provider's record to a field of the model. */
  rename: z.record(z.string(), z.string()).optional(),
  /** Fields dropped. */
  omit: z.array(z.string()).optional(),
  /** `{ status: { A: active, I: inactive } }`: values mapped; values not listed pass unchanged. */
  enums: z.record(z.string(), z.record(z.string(), queryValue)).optional(),
  /** `{ score: number }`: values converted; one that does not convert quarantines the record. */
  coerce: z
    .record(
      z.string(),
      z.enum(['string', 'number', 'integer', 'boolean', 'date', 'timestamp'], {
        error: () => 'must be string, number, integer, boolean, date or timestamp',
      }),
    )
    .optional(),
  /** `{ fullName: "{first} {last}" }`: fields made from others (`{path}` placeholders). */
  computed: z.record(z.string(), z.string()).optional(),
});

export const syncEntrySchema = z
  .strictObject({
    id,
    /** The connection the sync reads through. */
    connection: id,
    /** A connector's model, `<provider>.<model>` (`hubspot.contacts`). Exclusive with `request`. */
    model: z.string().min(1).optional(),
    /** The model's options. */
    options: z.record(z.string(), z.unknown()).optional(),
    /** A declarative sync of any HTTP API. */
    request: declarativeRequestSchema.optional(),
    /** `15m`, a cron expression (`*\/15 * * * *`), `{ cron, timezone }`, or `manual` (default). */
    schedule: z
      .union([
        z.string(),
        z.number(),
        z.strictObject({ every: z.union([z.string(), z.number()]) }),
        z.strictObject({ cron: z.string(), timezone: z.string().optional() }),
      ])
      .optional(),
    transform: mappingSchema.optional(),
    /** JSON Schema every record is validated against (after `transform`). */
    schema: z.record(z.string(), z.unknown()).optional(),
    volatile: z.array(z.string().min(1)).optional(),
    modifiedAt: z.string().min(1).optional(),
    conflicts: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    deletes: z
      .strictObject({
        maxShare: z.number().min(0).max(1).optional(),
        floor: z.number().int().min(0).optional(),
      })
      .optional(),
    timeLimit: z.union([z.string(), z.number()]).optional(),
    pushBatchSize: z.number().int().min(1).max(10_000).optional(),
    /** Event filters whose events request an incremental run (`crm.contact.*`). */
    triggers: z.array(z.string().min(1)).optional(),
  })
  .superRefine((entry, ctx) => {
    if ((entry.model === undefined) === (entry.request === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['model'],
        message: 'set model (a connector model) or request (a declarative sync), one of them',
      });
    }
    if (entry.options !== undefined && entry.model === undefined) {
      ctx.addIssue({ code: 'custom', path: ['options'], message: 'options go with a model' });
    }
  });

export const syncsSettingsSchema = z.strictObject({
  /** Lease of a run (renewed as it goes; a dead runner's sync is taken over after it). Defaults to 60 s. */
  lease: duration('lease').default(60_000),
  /** Runs one process has in flight at once. Defaults to 4. */
  concurrency: z.number().int().min(1).max(64).default(4),
  /** Longest wait before a process looks for due syncs again. Defaults to 1 s. */
  pollInterval: duration('pollInterval').default(1000),
});

export type SyncEntry = z.output<typeof syncEntrySchema>;
export type DeclarativeRequest = z.output<typeof declarativeRequestSchema>;
/** A declarative sync's `request` as written in the config file, before defaults. */
export type DeclarativeRequestInput = z.input<typeof declarativeRequestSchema>;
export type MappingConfig = z.output<typeof mappingSchema>;
export type SyncsSettings = z.output<typeof syncsSettingsSchema>;
