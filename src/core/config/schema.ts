import { z } from 'zod';
import { connectionSchema } from './connections.js';
import { durationSchema as duration } from './duration.js';
import { syncEntrySchema, syncsSettingsSchema } from './syncs.js';
import { parseSize } from './units.js';

/**
 * The shape of `patchbay.config.{yaml,json,js}`, validated with zod. Every section is optional: an empty
 * file (or none) runs Patchbay on SQLite with defaults. Objects are strict so a misspelt key is reported
 * instead of silently ignored. Secrets are written as `${ENV_VAR}` references (see `interpolate.ts`).
 */

/** An enum whose error names the bad value and the accepted ones. */
function oneOf<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, {
    error: (issue) =>
      `unknown ${what} ${JSON.stringify(issue.input)}; expected one of ${values.map((v) => `"${v}"`).join(', ')}`,
  });
}

const positiveDuration = (what: string) =>
  duration(what).refine((ms) => ms > 0, `${what} must be longer than 0`);

const size = (what: string) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const bytes = parseSize(value);
    if (bytes === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `${what} must be a size like "512kb" or "1mb", got ${JSON.stringify(value)}`,
      });
      return z.NEVER;
    }
    return bytes;
  });

const id = z
  .string()
  .regex(
    /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$/,
    'must be 1–64 letters, digits, "-" or "_", starting with a letter or digit',
  );

export const VERIFY_SCHEMES = [
  'standard-webhooks',
  'github',
  'stripe',
  'hubspot-v1',
  'hubspot-v2',
  'hubspot-v3',
  'slack',
  'msgraph',
  'sendgrid',
  'hmac-sha256',
  'none',
] as const;
export type VerifyScheme = (typeof VERIFY_SCHEMES)[number];

const verifySchema = z
  .strictObject({
    scheme: oneOf(VERIFY_SCHEMES, 'scheme'),
    /** Signing secrets; several at once during rotation. For `msgraph`, the accepted `clientState` values. */
    secrets: z.array(z.string().min(1, 'must not be empty')).default([]),
    /** The URL the provider calls, as it sees it (HubSpot v2/v3 sign it). */
    publicUrl: z.url({ error: 'must be an absolute URL' }).optional(),
    /** Accepted clock difference for signed timestamps. Defaults to 5 min. */
    tolerance: duration('tolerance').optional(),
    /** `none` only: required, to say it out loud. */
    insecure: z.boolean().optional(),
    /** `hmac-sha256` only: the signature header. */
    header: z.string().optional(),
    /** `hmac-sha256` only. Defaults to hex. */
    encoding: oneOf(['hex', 'base64'] as const, 'encoding').optional(),
    /** `hmac-sha256` only: a prefix before the signature, e.g. `sha256=`. */
    prefix: z.string().optional(),
    /** `hmac-sha256` only: a header with a unix timestamp that is part of the signed content. */
    timestampHeader: z.string().optional(),
    /** `hmac-sha256` only: unit of `timestampHeader`. Defaults to seconds. */
    timestampUnit: oneOf(['seconds', 'milliseconds'] as const, 'timestampUnit').optional(),
    /** `hmac-sha256` only: what is signed, with `{timestamp}`, `{id}` and `{body}` placeholders. */
    signedContent: z.string().optional(),
    /** `hmac-sha256`/`none`: header holding the sender's event id (for dedupe). */
    idHeader: z.string().optional(),
    /** `hmac-sha256`/`none`: dotted JSON path (or `header:<name>`) of the event type. */
    typePath: z.string().optional(),
  })
  .superRefine((verify, ctx) => {
    const need = (cond: boolean, path: string, message: string) => {
      if (!cond) ctx.addIssue({ code: 'custom', path: [path], message });
    };
    if (verify.scheme === 'none') {
      need(
        verify.insecure === true,
        'insecure',
        'scheme "none" accepts unsigned requests: set insecure: true to confirm',
      );
    } else {
      need(verify.secrets.length > 0, 'secrets', `scheme "${verify.scheme}" needs at least one secret`);
    }
    if (verify.scheme === 'hubspot-v3' || verify.scheme === 'hubspot-v2') {
      need(
        verify.publicUrl !== undefined,
        'publicUrl',
        `scheme "${verify.scheme}" signs the URL: set publicUrl`,
      );
    }
    if (verify.scheme === 'hmac-sha256')
      need(verify.header !== undefined, 'header', 'scheme "hmac-sha256" needs header');
  });

export const sourceSchema = z.strictObject({
  id,
  verify: verifySchema,
  /** Largest accepted request body. Defaults to the server's `bodyLimit` (1 MiB). */
  bodyLimit: size('bodyLimit').optional(),
  /** How long dedupe keys (and events) are kept. Defaults to 7 days. */
  retention: duration('retention').optional(),
});

/** RFC 9110 field-name: a token. A CRLF in a name or value was accepted, then every attempt failed. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 9110 field-value: visible characters, spaces and tabs; no CR, LF or NUL. */
const headerValue = z
  .string()
  .regex(/^[\t\x20-\x7e\x80-\uffff]*$/, 'header values must not contain CR, LF or other control characters');

/**
 * How an e-mail destination (an `smtp://` or `smtps://` url) writes its messages. The server is the url's
 * host: `smtps://` is TLS from the start (port 465 by default); `smtp://` (port 587) upgrades with
 * STARTTLS, required unless the server's address is inside `delivery.allowedNetworks`.
 */
const mailbox = z
  .string()
  .regex(/^[^\r\n\0]*[^\s@<>]@[^\s@<>]+>?$/, 'must be an address: name@host or "Name <name@host>"');

export const emailSchema = z.strictObject({
  /** The sender, `alerts@example.com` or `Patchbay <alerts@example.com>`. */
  from: mailbox,
  /** The recipients, one message to all of them. */
  to: z.array(mailbox).min(1, 'name at least one recipient'),
  /** SMTP AUTH user; without it no AUTH is tried. */
  username: z.string().min(1).optional(),
  /** SMTP AUTH password: a `${ENV}` reference (made through the API, it is sealed by the vault). */
  password: z.string().min(1).optional(),
});

export type EmailConfig = z.infer<typeof emailSchema>;

export const destinationSchema = z.strictObject({
  id,
  /** `https://…` (or `http://` to an allowed network); `smtp://host[:port]` or `smtps://…` for e-mail. */
  url: z.url({ error: 'must be an absolute URL' }),
  /** Standard Webhooks secrets (`whsec_…`); every one signs, for rotation. */
  secrets: z.array(z.string().min(1)).optional(),
  secret: z.string().min(1).optional(),
  /** Event filters on `<sourceId>.<type>`, `*` matching one segment and a trailing `.*` or `**` the rest. */
  events: z.array(z.string().min(1)).optional(),
  rateLimit: z
    .strictObject({
      perSecond: z.number().positive().optional(),
      maxConcurrent: z.number().int().positive().optional(),
    })
    .optional(),
  /**
   * Circuit breaker of this destination, over transport failures, timeouts and 5xx. By default it opens
   * when half of the attempts of the last 30 s failed, once there were 20 (`failureRate`); or after
   * `consecutiveFailures` in a row when that is set instead. One probe goes through after
   * `halfOpenAfter` (30 s). `false` turns it off.
   */
  breaker: z
    .union([
      z.literal(false),
      z
        .strictObject({
          consecutiveFailures: z.number().int().positive().optional(),
          failureRate: z
            .strictObject({
              threshold: z.number().gt(0).max(1).optional(),
              window: duration('breaker.failureRate.window').optional(),
              minimumVolume: z.number().int().positive().optional(),
            })
            .optional(),
          halfOpenAfter: duration('breaker.halfOpenAfter').optional(),
        })
        .refine((b) => b.consecutiveFailures === undefined || b.failureRate === undefined, {
          message: 'set consecutiveFailures or failureRate, not both',
        }),
    ])
    .optional(),
  timeout: duration('timeout').optional(),
  /** Deliver one at a time in event order. Defaults to false (best effort, concurrent). */
  ordered: z.boolean().optional(),
  /**
   * The body sent: `event` (the Standard Webhooks envelope, the default) or `slack` (`{"text": …}` for a
   * Slack incoming webhook: the payload's `text`, as health events carry, else `<source>.<type> <id>`);
   * `email` for an smtp(s) url (the default there): a message with the event's text as its subject.
   */
  format: oneOf(['event', 'slack', 'email'] as const, 'format').optional(),
  /** The sender, recipients and SMTP login of an `smtp://`/`smtps://` destination. */
  email: emailSchema.optional(),
  /** Extra request headers; names are HTTP tokens, values hold no CR, LF or NUL (refused here, not at each attempt). */
  headers: z
    .record(z.string(), headerValue)
    .superRefine((headers, ctx) => {
      for (const name of Object.keys(headers)) {
        if (!HEADER_NAME.test(name))
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: "header names must be HTTP tokens (letters, digits, !#$%&'*+-.^_`|~)",
          });
      }
    })
    .optional(),
  disabled: z.boolean().optional(),
});

const serverLimitsSchema = z
  .strictObject({
    /** Complete request headers must arrive within this of connecting. Defaults to 10 s. */
    headersTimeout: positiveDuration('headersTimeout').default(10_000),
    /** A request's whole body must arrive within this of its headers. Defaults to 15 s. */
    bodyTimeout: positiveDuration('bodyTimeout').default(15_000),
    /** A kept-alive connection idle this long is closed. Defaults to 5 s. */
    keepAliveTimeout: positiveDuration('keepAliveTimeout').default(5_000),
    /**
     * Open connections at most. At the cap, the connection that has waited longest without a request in
     * progress is closed to make room; with none, the new one is refused (503). Defaults to 10,000.
     */
    maxConnections: z.number().int().positive().default(10_000),
    /**
     * Open connections per client address (IPv6: per /64); more are refused (503) before any parsing.
     * Defaults to 256, or no cap with `trustProxy` (every client then comes from the proxy's address).
     */
    maxConnectionsPerAddress: z.number().int().positive().optional(),
    /**
     * Request bodies being received, all requests together: a request whose declared size does not fit
     * cuts off a larger body still arriving, or waits (unread, within bodyTimeout) for room. Defaults to
     * 64 MiB.
     */
    inflightBodyLimit: size('inflightBodyLimit').default(64 * 1024 * 1024),
    /**
     * Connections the kernel may hold for the server before it accepts them (the listen backlog; Linux
     * caps it at net.core.somaxconn). Beyond it new connections are dropped and their senders retry
     * after a second or more. Defaults to 4,096 (Node's own default is 511).
     */
    listenBacklog: z.number().int().positive().max(65_535).default(4096),
  })
  .prefault({});

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      /** Interface to bind. Defaults to 127.0.0.1 (set 0.0.0.0 to serve beyond this machine, with an admin token). */
      host: z.string().default('127.0.0.1'),
      /** Defaults to 8080. */
      port: z.number().int().min(0).max(65535).default(8080),
      /** Bearer token for `/api/v1`. Required when `host` is not a loopback address. */
      adminToken: z
        .string()
        .min(16, 'must be at least 16 characters')
        // Sixteen spaces were accepted: a token must be something to guess, and fit in a header as sent.
        .regex(/^[!-~]+$/, 'must be visible ASCII characters only (no spaces or control characters)')
        .optional(),
      /** Largest request body. Defaults to 1 MiB. */
      bodyLimit: size('bodyLimit').default(1024 * 1024),
      /**
       * Host names the admin API (and dashboard) answer to besides loopback ones and the bound address:
       * the public name it is reached by. Any other `Host` is refused (DNS rebinding). Defaults to none.
       */
      allowedHosts: z
        .array(
          z
            .string()
            .regex(
              /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$|^\[?[0-9a-fA-F:.]+\]?$/,
              'must be a host name or IP address, without scheme or port',
            )
            .transform((h) => h.toLowerCase().replace(/^\[|\]$/g, '')),
        )
        .default([]),
      /** Trust X-Forwarded-* from a reverse proxy. Defaults to false. */
      trustProxy: z.boolean().default(false),
      /** Bounds on what a slow or hostile client can hold (docs/security.md). */
      limits: serverLimitsSchema,
    })
    .superRefine((server, ctx) => {
      if (server.limits.inflightBodyLimit < server.bodyLimit) {
        ctx.addIssue({
          code: 'custom',
          path: ['limits', 'inflightBodyLimit'],
          message: `must be at least bodyLimit (${server.bodyLimit} bytes), or no request of that size could be read`,
        });
      }
    })
    .prefault({}),
  database: z
    .strictObject({
      /** `postgres://…` or a SQLite path. Defaults to `./.patchbay/patchbay.db`. */
      url: z.string().min(1).optional(),
      /** SQLite `synchronous`. Defaults to FULL (an acknowledged event survives power loss). */
      sqliteSynchronous: oneOf(['FULL', 'NORMAL'] as const, 'sqliteSynchronous').default('FULL'),
      /**
       * SQLite: how long a write waits for another process's lock before the request is answered 503
       * with Retry-After. Defaults to 5 s, within a webhook sender's 10 s.
       */
      busyTimeout: duration('busyTimeout').default(5000),
      /** PostgreSQL pool size. Defaults to 10. */
      poolSize: z.number().int().positive().default(10),
    })
    .prefault({}),
  redis: z.strictObject({ url: z.string().min(1).optional() }).prefault({}),
  /** Where generated files (SQLite database, key file) go. Defaults to `./.patchbay`. */
  dataDir: z.string().default('./.patchbay'),
  log: z
    .strictObject({
      level: oneOf(
        ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const,
        'log level',
      ).default('info'),
      /** `pretty` lines for people, `json` lines for machines; `auto` is pretty on a terminal. */
      format: oneOf(['auto', 'pretty', 'json'] as const, 'log format').default('auto'),
    })
    .prefault({}),
  workers: z
    .strictObject({
      /** Jobs each queue runs at once per process. Defaults to 16. */
      concurrency: z.number().int().positive().default(16),
      /** Lease (visibility timeout) of a claimed job. Defaults to 60 s. */
      lease: duration('lease').default(60_000),
      /** Longest wait between polls when no wake-up arrives. Defaults to 1 s. */
      pollInterval: duration('pollInterval').default(1000),
      /** How long shutdown waits for running jobs before releasing them. Defaults to 10 s. */
      shutdownGrace: duration('shutdownGrace').default(10_000),
    })
    .prefault({}),
  sources: z.array(sourceSchema).default([]),
  destinations: z.array(destinationSchema).default([]),
  delivery: z
    .strictObject({
      /** Delays before each retry. Defaults to 5s, 5m, 30m, 2h, 5h, 10h, 10h (Svix's schedule). */
      retrySchedule: z.array(duration('retrySchedule entry')).optional(),
      /** CIDR networks destinations may resolve to despite the SSRF guard; plain http is allowed there. */
      allowedNetworks: z.array(z.string()).default([]),
      /** Per-attempt timeout. Defaults to 15 s. */
      timeout: duration('timeout').optional(),
      /** A destination failing continuously this long is disabled. Defaults to 5 days. */
      disableAfter: duration('disableAfter').optional(),
      /** Least wait after a 429 or a timeout. Defaults to 60 s. */
      overloadBackoff: duration('overloadBackoff').optional(),
      /** Retry jitter as a fraction of the delay (±). Defaults to 0.2. */
      jitter: z.number().min(0).max(1).optional(),
      /**
       * Longest an attempt waits in its worker for a destination's rate-limit or concurrency slot before
       * it is deferred without counting. Defaults to 1 s.
       */
      limitWait: duration('limitWait').optional(),
    })
    .prefault({}),
  events: z
    .strictObject({
      /** How long events (and their dedupe keys) are kept. Defaults to 7 days. */
      retention: duration('retention').default(7 * 86_400_000),
    })
    .prefault({}),
  ui: z
    .strictObject({
      /** How long a dashboard sign-in lasts. Defaults to 8 h. */
      sessionTtl: positiveDuration('ui.sessionTtl').default(8 * 3_600_000),
    })
    .prefault({}),
  /** Connections to third-party APIs and their credentials (secrets as `${ENV}` references). */
  connections: z.array(connectionSchema).default([]),
  /** Syncs: connector models or declarative HTTP syncs (see docs/syncs.md). */
  syncs: z
    .array(syncEntrySchema)
    .default([])
    .superRefine((entries, ctx) => {
      const seen = new Set<string>();
      entries.forEach((entry, i) => {
        if (seen.has(entry.id))
          ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `duplicate sync id "${entry.id}"` });
        seen.add(entry.id);
      });
    }),
  /** How this process runs syncs. */
  syncRuns: syncsSettingsSchema.prefault({}),
  vault: z
    .strictObject({
      /** Refresh OAuth access tokens this long before they expire. Defaults to 60 s. */
      refreshSkew: duration('refreshSkew').default(60_000),
      /** Longest wait for a token endpoint. Defaults to 10 s. */
      tokenTimeout: duration('tokenTimeout').default(10_000),
      /** How long a process may hold a connection's refresh lock before others take over. Defaults to 30 s. */
      lockTimeout: duration('lockTimeout').default(30_000),
      /** How long an authorization link (its `state`) stays valid. Defaults to 10 min. */
      stateTtl: duration('stateTtl').default(600_000),
      /** Public URL of `/oauth/callback`, as registered with providers. Defaults to the server's own address. */
      oauthRedirectUrl: z.url({ error: 'must be an absolute URL' }).optional(),
      /**
       * Allow OAuth endpoints and connection APIs on loopback addresses, plain http included (local test
       * servers only). Defaults to false.
       */
      allowInsecureLoopback: z.boolean().default(false),
      /**
       * CIDR networks OAuth endpoints (discovery, token) and connections' APIs may reach despite the SSRF
       * rule, as `delivery.allowedNetworks` does for destinations. Defaults to none.
       */
      allowedNetworks: z.array(z.string()).default([]),
    })
    .prefault({}),
});

export type PatchbayConfig = z.output<typeof configSchema>;
export type PatchbayConfigInput = z.input<typeof configSchema>;
export type SourceConfig = z.output<typeof sourceSchema>;
export type DestinationConfig = z.output<typeof destinationSchema>;
export type VaultConfig = PatchbayConfig['vault'];
export * from './connections.js';
