import type { Logger } from 'pino';
import { type Clock, systemClock } from '../../core/clock.js';
import { parseWith } from '../../core/config/index.js';
import { type DestinationConfig, destinationSchema } from '../../core/config/schema.js';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { checkDestinationUrl, type Resolver, systemResolver } from '../../http/ssrf/index.js';
import { assertPlainHttpAllowed } from '../../http/ssrf/plain-http-check.js';
import type { DeliveryStore } from '../../store/delivery-store.js';
import { decodeWebhookSecret, generateWebhookSecret } from '../sign/standard-webhooks.js';
import { type DestinationRegistry, type HttpDestination, httpDestinationFromConfig } from './destinations.js';
import { isMailUrl, ssrfUrl } from './mail/smtp-url.js';
import type { StoredDestinations } from './stored-destinations.js';

export interface DestinationServiceOptions {
  store: DeliveryStore;
  registry: DestinationRegistry;
  stored: StoredDestinations;
  /** Ids of the configuration file's destinations (read-only here). */
  configIds: ReadonlySet<string>;
  defaultTimeoutMs: number;
  allowedNetworks: readonly string[];
  /** Resolves a plain-http destination's name at creation (the delivery guard's). Defaults to the system's. */
  resolver?: Resolver;
  clock?: Clock;
  logger?: Logger;
  /** Counts a stored API destination that no longer loads (its key changed); each is also logged. */
  onDecodeFailure?: () => void;
}

/**
 * Destinations made through the admin API: validated with the configuration's schema, the URL checked
 * against the SSRF rules at once (the connection is checked again at every attempt), secrets and headers
 * sealed by the vault, state kept in the same `destinations` row every process reads.
 */
export class DestinationService {
  private readonly o: DestinationServiceOptions;
  private readonly clock: Clock;
  /** The stored form (definition + ciphertext) of each API destination this process has defined. */
  private readonly loaded = new Map<string, string>();
  /** The stored form of each API destination that could not be loaded (logged once each). */
  private readonly unloadable = new Map<string, string>();

  constructor(options: DestinationServiceOptions) {
    this.o = options;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * Brings the registry's copy up to date (when it is a second old, or now with `force`: the admin API's
   * reads), then defines the API destinations whose rows changed and forgets those deleted elsewhere.
   * Never rejects: a failed read is logged and counted by the registry, and the copy serves.
   */
  async revalidate(force = false): Promise<void> {
    await this.o.registry.revalidate({ force });
    await this.adopt();
  }

  /** Defines every API destination of the registry's rows as last read; forgets those deleted elsewhere. */
  async adopt(): Promise<void> {
    const rows = this.o.registry.apiRows();
    const ids = new Set(rows.map((r) => r.id));
    for (const row of rows) {
      // Unchanged rows are skipped: no decryption per read.
      const form = this.o.stored.formOf(row);
      if (this.loaded.get(row.id) === form || this.unloadable.get(row.id) === form) continue;
      try {
        this.o.registry.define(await this.o.stored.decode(row), row.updatedAt);
        this.loaded.set(row.id, form);
        this.unloadable.delete(row.id);
      } catch (err) {
        // Reported once per stored form: the admin API reads on every call.
        this.unloadable.set(row.id, form);
        this.o.onDecodeFailure?.();
        this.o.logger?.error({ err, destination: row.id }, 'stored destination could not be loaded');
      }
    }
    for (const d of this.o.registry.all()) {
      if (d.kind === 'http' && d.origin === 'api' && !ids.has(d.id)) this.forget(d.id);
    }
  }

  /**
   * Creates a destination. One made without a signing secret gets a generated one (`whsec_` and 32
   * random bytes, as Svix does): it is returned here, once, and later only by `secrets(id)`. Without
   * it, every delivery would fail to be signed.
   */
  async create(input: unknown): Promise<{ destination: HttpDestination; generatedSecret?: string }> {
    const given = parseWith(destinationSchema, input, '');
    if (this.o.configIds.has(given.id) || this.o.registry.get(given.id)) {
      throw new PatchbayError(ErrorCode.CONFLICT, `destination ${given.id} already exists`);
    }
    // An e-mail is not signed: a mail url gets no secret.
    const generatedSecret =
      (given.secrets?.length ?? 0) === 0 && given.secret === undefined && !isMailUrl(new URL(given.url))
        ? generateWebhookSecret()
        : undefined;
    const config = generatedSecret ? { ...given, secrets: [generatedSecret] } : given;
    const destination = await this.build(config);
    const { definition, secrets } = await this.o.stored.encode(config);
    if (!(await this.o.store.insertApiDestination(config.id, definition, secrets, this.clock.now()))) {
      throw new PatchbayError(ErrorCode.CONFLICT, `destination ${config.id} already exists`);
    }
    this.o.registry.define(destination);
    this.o.registry.invalidate();
    await this.o.registry.state(config.id);
    this.o.logger?.info(
      { destination: config.id, generatedSecret: generatedSecret !== undefined },
      'destination created',
    );
    return { destination, ...(generatedSecret && { generatedSecret }) };
  }

  /** The signing secrets of an HTTP destination (every one signs; the first is the newest given). */
  async secrets(id: string): Promise<readonly string[]> {
    const known = this.o.registry.get(id) ?? (await this.o.stored.load(id));
    if (!known) throw new PatchbayError(ErrorCode.NOT_FOUND, `no destination ${id}`);
    if (known.kind !== 'http' || known.format === 'email') {
      throw new PatchbayError(
        ErrorCode.CONFLICT,
        `destination ${id} is ${known.kind === 'http' ? 'an e-mail destination' : 'an in-process handler'}: nothing is signed`,
      );
    }
    this.o.logger?.info({ destination: id }, 'destination signing secrets read by an admin');
    return known.secrets;
  }

  /** Replaces the given fields (`secrets`/`headers`/`email` replace the stored ones when given). */
  async update(id: string, patch: Record<string, unknown>): Promise<HttpDestination> {
    const current = await this.stored(id);
    const config = parseWith(destinationSchema, { ...current, ...patch, id }, '');
    const destination = await this.build(config);
    const { definition, secrets } = await this.o.stored.encode(config);
    if (!(await this.o.store.updateApiDestination(id, definition, secrets, this.clock.now()))) {
      throw new PatchbayError(ErrorCode.NOT_FOUND, `no destination ${id}`);
    }
    this.o.registry.define(destination);
    this.o.registry.invalidate();
    this.o.logger?.info({ destination: id }, 'destination updated');
    return destination;
  }

  /**
   * A new signing secret first, the newest previous one kept: both sign every delivery until the
   * receiver has switched (Standard Webhooks receivers accept any listed signature), then
   * `update(id, { secrets: [secret] })` retires the old one. Returns the new secret, once.
   */
  async rotateSecret(id: string): Promise<string> {
    const current = await this.stored(id);
    const secret = generateWebhookSecret();
    const previous = [...(current.secrets ?? []), ...(current.secret ? [current.secret] : [])];
    await this.update(id, { secrets: [secret, ...previous.slice(0, 1)], secret: undefined });
    this.o.logger?.info({ destination: id }, 'destination signing secret rotated');
    return secret;
  }

  async delete(id: string): Promise<void> {
    if (this.o.configIds.has(id)) {
      throw new PatchbayError(
        ErrorCode.CONFLICT,
        `destination ${id} is declared in the configuration file: remove it there`,
      );
    }
    if (!(await this.o.store.deleteApiDestination(id)))
      throw new PatchbayError(ErrorCode.NOT_FOUND, `no destination ${id}`);
    this.forget(id);
    this.o.registry.invalidate();
    this.o.logger?.info({ destination: id }, 'destination deleted');
  }

  private forget(id: string): void {
    this.o.registry.undefine(id);
    this.loaded.delete(id);
  }

  private async build(config: DestinationConfig): Promise<HttpDestination> {
    if (config.disabled !== undefined) {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'disabled: use POST /destinations/:id/disable');
    }
    const secrets = [...(config.secrets ?? []), ...(config.secret ? [config.secret] : [])];
    for (const [i, s] of secrets.entries()) decodeWebhookSecret(s, `secrets[${i}]`);
    // At once, for a clear answer: https (or an allowed network), no literal private address.
    const ssrf = { allowedNetworks: [...this.o.allowedNetworks] };
    const check = checkDestinationUrl(ssrfUrl(config.url), ssrf);
    await assertPlainHttpAllowed(check, ssrf, this.o.resolver ?? systemResolver, AbortSignal.timeout(10_000));
    const destination = httpDestinationFromConfig(config, this.o.defaultTimeoutMs);
    return { ...destination, origin: 'api' };
  }

  private async stored(id: string): Promise<DestinationConfig> {
    if (this.o.configIds.has(id)) {
      throw new PatchbayError(
        ErrorCode.CONFLICT,
        `destination ${id} is declared in the configuration file: change it there`,
      );
    }
    const state = await this.o.store.destination(id);
    if (state?.origin !== 'api') throw new PatchbayError(ErrorCode.NOT_FOUND, `no destination ${id}`);
    return this.o.stored.configOf(state);
  }
}
