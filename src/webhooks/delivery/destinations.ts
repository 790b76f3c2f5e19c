import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import type { DestinationConfig } from '../../core/config/index.js';
import { ErrorCode, errorMessage, PatchbayError } from '../../core/errors.js';
import { inSavepoint, type Tx } from '../../store/database.js';
import type { DeliveryStore, DestinationState } from '../../store/delivery-store.js';
import type { StoredEvent } from '../../store/event-store.js';
import { compileFilters, type EventMatcher, validatePattern } from './event-filter.js';
import type { EmailSettings } from './mail/mail-sender.js';
import { isMailUrl } from './mail/smtp-url.js';

/** What an in-process handler receives. */
export interface DeliveredEvent {
  id: string;
  source: string;
  type: string;
  receivedAt: Date;
  /** The payload, parsed when it is JSON, else the text. */
  payload: unknown;
  headers: Record<string, string>;
}

export interface HandlerContext {
  deliveryId: string;
  /** 1 for the first attempt. */
  attempt: number;
  /** Aborts at the attempt timeout or on shutdown. */
  signal: AbortSignal;
}

export type EventHandler = (event: DeliveredEvent, ctx: HandlerContext) => Promise<void> | void;

interface CommonDestination {
  id: string;
  /** The filters as written; undefined receives every event. */
  events?: readonly string[];
  matches: EventMatcher;
  timeoutMs: number;
  /** One delivery in flight at a time, in event order. */
  ordered: boolean;
  /** Attempts allowed to start per second, and in flight at once, across every process. */
  rateLimit?: { perSecond?: number; maxConcurrent?: number };
  /** The destination's circuit breaker settings (defaults apply when absent), or false for none. */
  breaker?: DestinationBreaker | false;
}

export interface DestinationBreaker {
  /** Opens when this fraction of the attempts in the window failed, once there were enough (the default). */
  failureRate?: { threshold?: number; windowMs?: number; minimumVolume?: number };
  /** Transport failures, timeouts or 5xx in a row that open the breaker, instead of a failure rate. */
  consecutiveFailures?: number;
  /** How long it stays open before one probe goes through, in ms. Defaults to 30 s. */
  halfOpenAfterMs?: number;
}

/** A destination at a URL: an HTTP endpoint, or a mail server (`smtp:`/`smtps:`, format `email`). */
export interface HttpDestination extends CommonDestination {
  kind: 'http';
  url: URL;
  /** Standard Webhooks secrets (`whsec_…`); each active one signs every delivery. None for e-mail. */
  secrets: readonly string[];
  headers: Readonly<Record<string, string>>;
  /** `api` when made through the admin API (stored, secrets sealed); config otherwise. */
  origin?: 'config' | 'api';
  /** The body: the event envelope, `{text}` for a Slack incoming webhook, or an e-mail. */
  format: 'event' | 'slack' | 'email';
  /** Sender, recipients and login, for format `email`. */
  email?: EmailSettings;
}

export interface HandlerDestination extends CommonDestination {
  kind: 'handler';
  handler: EventHandler;
}

export type Destination = HttpDestination | HandlerDestination;

/** What the router needs of a destination. */
export interface Route {
  id: string;
  ordered: boolean;
  matches: EventMatcher;
  enabled: boolean;
}

export const DEFAULT_DELIVERY_TIMEOUT_MS = 15_000;

const RESERVED_HEADERS = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'host',
  'transfer-encoding',
  'connection',
]);

/** Builds an HTTP destination from its config entry, with a clear error for anything unusable. */
export function httpDestinationFromConfig(
  config: DestinationConfig,
  defaultTimeoutMs: number,
): HttpDestination {
  const problem = (message: string) =>
    new PatchbayError(ErrorCode.CONFIG_INVALID, `destination "${config.id}": ${message}`);
  const url = new URL(config.url);
  const mail = isMailUrl(url);
  if (!mail && url.protocol !== 'https:' && url.protocol !== 'http:')
    throw problem(`url must be http(s), or smtp(s) for e-mail, got ${url.protocol}`);
  if (url.username || url.password)
    throw problem(
      mail
        ? 'url must not hold credentials; use email.username and email.password'
        : 'url must not hold credentials; use headers or secrets',
    );
  const format = config.format ?? (mail ? 'email' : 'event');
  if (mail) checkEmail(config, url, problem);
  else if (format === 'email') throw problem('format "email" needs an smtp:// or smtps:// url');
  else if (config.email) throw problem('email: only an smtp:// or smtps:// url sends e-mail');
  for (const pattern of config.events ?? []) {
    const invalid = validatePattern(pattern);
    if (invalid) throw problem(invalid);
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers ?? {})) {
    if (RESERVED_HEADERS.has(name.toLowerCase()))
      throw problem(`header "${name}" is set by Patchbay and cannot be overridden`);
    headers[name.toLowerCase()] = value;
  }
  const secrets = [...(config.secrets ?? []), ...(config.secret ? [config.secret] : [])];
  return {
    kind: 'http',
    id: config.id,
    url,
    secrets,
    headers,
    ...(config.events && { events: config.events }),
    matches: compileFilters(config.events),
    timeoutMs: config.timeout ?? defaultTimeoutMs,
    ordered: config.ordered ?? false,
    format,
    ...(mail && { email: { ...config.email! } }),
    ...(config.rateLimit && { rateLimit: config.rateLimit }),
    ...(config.breaker !== undefined && {
      breaker:
        config.breaker === false
          ? false
          : {
              ...(config.breaker.consecutiveFailures !== undefined && {
                consecutiveFailures: config.breaker.consecutiveFailures,
              }),
              ...(config.breaker.failureRate !== undefined && {
                failureRate: {
                  ...(config.breaker.failureRate.threshold !== undefined && {
                    threshold: config.breaker.failureRate.threshold,
                  }),
                  ...(config.breaker.failureRate.window !== undefined && {
                    windowMs: config.breaker.failureRate.window,
                  }),
                  ...(config.breaker.failureRate.minimumVolume !== undefined && {
                    minimumVolume: config.breaker.failureRate.minimumVolume,
                  }),
                },
              }),
              ...(config.breaker.halfOpenAfter !== undefined && {
                halfOpenAfterMs: config.breaker.halfOpenAfter,
              }),
            },
    }),
  };
}

/** What an e-mail destination needs, and what it cannot have. */
function checkEmail(config: DestinationConfig, url: URL, problem: (message: string) => PatchbayError): void {
  if (config.format !== undefined && config.format !== 'email')
    throw problem(`format must be "email" for an ${url.protocol} url, got "${config.format}"`);
  if (!config.email) throw problem('email: an smtp(s) url needs email.from and email.to');
  if ((url.pathname !== '' && url.pathname !== '/') || url.search)
    throw problem('url: an smtp(s) url names the mail server only (no path or query)');
  if ((config.secrets?.length ?? 0) > 0 || config.secret !== undefined)
    throw problem('secrets: an e-mail is not signed (remove secrets)');
  if (config.headers && Object.keys(config.headers).length > 0)
    throw problem('headers: an e-mail has no request headers (remove headers)');
  if (config.email.password !== undefined && config.email.username === undefined)
    throw problem('email.password needs email.username');
}

/** How old this process's copy of the destinations' rows may be before routing reads the stored version. */
export const DESTINATION_REVALIDATE_MS = 1000;

export interface DestinationRegistryOptions {
  /** Defaults to `DESTINATION_REVALIDATE_MS`. */
  revalidateMs?: number;
  logger?: Logger;
  /**
   * Counts a failure to learn what other processes did: `read` (the store did not answer; the copy
   * serves and the read is tried again `revalidateMs` later) or `decode` (a stored API destination no
   * longer loads). Each is also logged.
   */
  onFailure?: (stage: 'read' | 'decode') => void;
}

/**
 * Every destination this process knows (from config, the admin API, and `engine.on` handlers) with its
 * runtime state. The state lives in the store so all processes agree. Other processes make, change,
 * enable, disable and delete destinations: this one learns of it by versioned reads (decision 0052) —
 * once its copy of the rows is `revalidateMs` old, the next routing transaction (or admin read) reads the
 * stored version, and the rows only when it moved. The router routes API destinations from those rows.
 */
export class DestinationRegistry {
  private readonly definitions = new Map<string, Destination>();
  private states = new Map<string, DestinationState>();
  /** The stored row's version (`updated_at`) each API definition was read at, by `forAttempt`. */
  private readonly loadedVersions = new Map<string, number>();
  /** Definitions being read from the store, by id, with the row version each read was started for. */
  private readonly reading = new Map<
    string,
    { version: number; definition: Promise<Destination | undefined> }
  >();
  /** Routes of every API destination, as its row was last read. */
  private storedRoutes = new Map<string, Route>();
  /** The rows' stored version the copy matches, and when it was last read. */
  private version: string | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private revalidating: Promise<void> | undefined;
  /** This process's own writes so far (`invalidate`), and how many there were when the read under way began. */
  private writes = 0;
  private revalidatingAt = 0;
  private readonly revalidateMs: number;
  private readonly logger: Logger | undefined;
  private readonly onFailure: ((stage: 'read' | 'decode') => void) | undefined;
  /** The definitions (as stored) whose routes could not be read, so each is reported once. */
  private readonly unreadable = new Set<string>();

  /**
   * `loader` reads destinations another process made or changed through the API (for `forAttempt`);
   * without one, only this process's own definitions are known.
   */
  constructor(
    private readonly store: DeliveryStore,
    private readonly clock: Clock,
    private readonly loader?: (id: string) => Promise<Destination | undefined>,
    options: DestinationRegistryOptions = {},
  ) {
    this.revalidateMs = options.revalidateMs ?? DESTINATION_REVALIDATE_MS;
    this.logger = options.logger;
    this.onFailure = options.onFailure;
  }

  /** `version`: the row's `updated_at` the definition was read from, when it was. */
  define(destination: Destination, version?: number): void {
    this.definitions.set(destination.id, destination);
    if (version === undefined) this.loadedVersions.delete(destination.id);
    else this.loadedVersions.set(destination.id, version);
  }

  undefine(id: string): void {
    this.definitions.delete(id);
    this.states.delete(id);
    this.loadedVersions.delete(id);
  }

  get(id: string): Destination | undefined {
    return this.definitions.get(id);
  }

  /**
   * The destination an attempt uses, given its row as read with the delivery (undefined: the row is
   * gone). An API destination follows its row, which another process may have made, changed or deleted:
   * the cached definition serves while it is as new as the row (`version`, its `updated_at`), else the
   * row's definition is read — once for all the attempts that find it stale together — and a deleted
   * one is forgotten. Config and handler destinations are this process's own.
   */
  async forAttempt(
    id: string,
    row: { origin: DestinationState['origin']; version: number } | undefined,
  ): Promise<Destination | undefined> {
    const known = this.definitions.get(id);
    const fromApi = known?.kind === 'http' && known.origin === 'api';
    if (row === undefined) {
      if (!fromApi) return known;
      this.undefine(id);
      return undefined;
    }
    if (row.origin !== 'api' || !this.loader) return known;
    if (known && this.loadedVersions.get(id) === row.version) return known;
    // Only attempts that saw the same row share a read: one started for an older row may return the
    // older definition.
    let reading = this.reading.get(id);
    if (reading?.version !== row.version) {
      const entry = {
        version: row.version,
        definition: this.loader(id).finally(() => {
          if (this.reading.get(id) === entry) this.reading.delete(id);
        }),
      };
      this.reading.set(id, entry);
      reading = entry;
    }
    const found = await reading.definition;
    if (!found) {
      if (fromApi) this.undefine(id);
      return undefined;
    }
    // A read of an older row that finishes last does not replace the newer definition.
    if ((this.loadedVersions.get(id) ?? Number.NEGATIVE_INFINITY) <= reading.version) {
      this.definitions.set(id, found);
      this.loadedVersions.set(id, reading.version);
    }
    return found;
  }

  all(): Destination[] {
    return [...this.definitions.values()];
  }

  /** The API destinations' rows as last read (the admin service defines them from these). */
  apiRows(): DestinationState[] {
    return [...this.states.values()].filter((s) => s.origin === 'api');
  }

  /**
   * Destinations whose filters match `<source>.<type>`, with whether each is enabled. Config and handler
   * destinations are this process's own definitions; API destinations are routed from their rows as
   * last read, whichever process made or changed them.
   */
  matching(name: string): Route[] {
    const out: Route[] = [];
    for (const destination of this.definitions.values()) {
      if (destination.kind === 'http' && destination.origin === 'api') continue;
      if (destination.matches(name)) {
        out.push({
          id: destination.id,
          ordered: destination.ordered,
          matches: destination.matches,
          enabled: this.states.get(destination.id)?.status !== 'disabled',
        });
      }
    }
    for (const route of this.storedRoutes.values()) {
      if (route.matches(name)) out.push(route);
    }
    return out;
  }

  /** Whether deliveries to `id` drain one at a time (an API destination: as its row was last read). */
  isOrdered(id: string): boolean {
    const own = this.definitions.get(id);
    if (own && !(own.kind === 'http' && own.origin === 'api')) return own.ordered;
    return this.storedRoutes.get(id)?.ordered ?? false;
  }

  /** The ordered destinations (API ones as their rows were last read). */
  orderedIds(): string[] {
    const ids = new Set<string>();
    for (const d of this.definitions.values()) {
      if (d.ordered && !(d.kind === 'http' && d.origin === 'api')) ids.add(d.id);
    }
    for (const route of this.storedRoutes.values()) if (route.ordered) ids.add(route.id);
    return [...ids];
  }

  /**
   * Brings the copy of the rows up to date when it is `revalidateMs` old, or now with `force`; undefined
   * when it is fresh (no await on the hot path). With `tx` (the router's, in the transaction that stores
   * events) the read runs in it, under a savepoint so that a failed read does not end the transaction
   * on PostgreSQL. Never rejects: a failed read is logged and counted, the copy serves, and the read is
   * tried again `revalidateMs` later.
   */
  revalidate(options: { tx?: Tx; force?: boolean } = {}): Promise<void> | undefined {
    const { tx, force = false } = options;
    if (!force && this.clock.now() - this.checkedAt < this.revalidateMs) return undefined;
    if (this.revalidating) {
      // A transaction does not wait for a read outside it (on SQLite that read waits for the
      // transaction's connection): it routes with the copy, which that read is about to bring up to date.
      if (tx) return undefined;
      if (this.revalidatingAt === this.writes) return this.revalidating;
      // The read under way started before this process's last write: read again after it.
      return this.revalidating.then(() => this.revalidate({ force: true }));
    }
    const startedAt = this.clock.now();
    const writes = this.writes;
    const reading = (tx ? this.readInSavepoint(tx) : this.readIfMoved())
      .catch((err: unknown) => {
        this.onFailure?.('read');
        this.logger?.warn(
          { err: errorMessage(err) },
          "reading the destinations other processes made or changed failed: this process's copy serves",
        );
      })
      .finally(() => {
        // A write of this process's own during the read keeps the copy stale: the next caller reads.
        this.checkedAt = this.writes === writes ? startedAt : Number.NEGATIVE_INFINITY;
        this.revalidating = undefined;
      });
    this.revalidating = reading;
    this.revalidatingAt = writes;
    return reading;
  }

  /** Makes the next routing transaction read the stored version (after a write of this process's own). */
  invalidate(): void {
    this.writes++;
    this.checkedAt = Number.NEGATIVE_INFINITY;
  }

  /** Reads every row now, whatever the version says; rejects when the store does not answer (start-up). */
  async load(): Promise<void> {
    await this.revalidating;
    this.version = undefined;
    await this.readIfMoved();
    this.checkedAt = this.clock.now();
  }

  private async readInSavepoint(tx: Tx): Promise<void> {
    await inSavepoint(tx, 'destinations_version', () => this.readIfMoved(tx));
  }

  private async readIfMoved(tx?: Tx): Promise<void> {
    const version = await this.store.destinationsVersion(tx);
    if (version === this.version) return;
    this.adopt(await this.store.destinations(tx));
    this.version = version;
  }

  private adopt(rows: readonly DestinationState[]): void {
    const states = new Map<string, DestinationState>();
    const routes = new Map<string, Route>();
    for (const row of rows) {
      states.set(row.id, row);
      if (row.origin !== 'api') continue;
      try {
        const definition = JSON.parse(row.definition ?? '{}') as { events?: string[]; ordered?: boolean };
        routes.set(row.id, {
          id: row.id,
          ordered: definition.ordered ?? false,
          matches: compileFilters(definition.events),
          enabled: row.status !== 'disabled',
        });
      } catch (err) {
        const form = `${row.id}\u0000${row.definition}`;
        if (this.unreadable.has(form)) continue;
        this.unreadable.add(form);
        this.onFailure?.('decode');
        this.logger?.error(
          { err: errorMessage(err), destination: row.id },
          'stored destination could not be read: no event is routed to it',
        );
      }
    }
    this.states = states;
    this.storedRoutes = routes;
  }

  /** Creates state rows for new destinations and loads everyone's state (rejects when it cannot). */
  async sync(configDisabled: ReadonlySet<string> = new Set()): Promise<void> {
    const now = this.clock.now();
    for (const d of this.definitions.values()) {
      await this.store.ensureDestination(
        d.id,
        d.kind === 'handler' ? 'handler' : 'config',
        now,
        configDisabled.has(d.id) ? 'disabled' : 'enabled',
      );
    }
    await this.load();
  }

  /** The state as stored now (not the cache): the delivery worker decides on this. */
  async state(id: string): Promise<DestinationState | undefined> {
    const state = await this.store.destination(id);
    if (state) this.states.set(id, state);
    return state;
  }

  async enable(id: string): Promise<DestinationState> {
    const now = this.clock.now();
    const updated = await this.store.updateDestination(id, {
      status: 'enabled',
      disabledReason: null,
      disabledAt: null,
      failingSince: null,
      failureAlerted: false,
      updatedAt: now,
    });
    if (updated === 0) throw new PatchbayError(ErrorCode.NOT_FOUND, `no destination ${id}`);
    this.invalidate();
    return (await this.state(id))!;
  }

  async disable(id: string, reason: string): Promise<DestinationState> {
    const now = this.clock.now();
    const updated = await this.store.updateDestination(id, {
      status: 'disabled',
      disabledReason: reason,
      disabledAt: now,
      updatedAt: now,
    });
    if (updated === 0) throw new PatchbayError(ErrorCode.NOT_FOUND, `no destination ${id}`);
    this.invalidate();
    return (await this.state(id))!;
  }
}

/** The view of an event an in-process handler gets. */
export function toDeliveredEvent(event: StoredEvent): DeliveredEvent {
  return {
    id: event.id,
    source: event.source,
    type: event.type,
    receivedAt: new Date(event.receivedAt),
    payload: decodePayload(event),
    headers: event.headers,
  };
}

export function decodePayload(event: StoredEvent): unknown {
  const text = event.body.toString('utf8');
  if (/json/i.test(event.contentType ?? 'application/json')) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}
