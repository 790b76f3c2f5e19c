import type { Logger } from 'pino';
import { type Clock, systemClock } from '../../core/clock.js';
import { parseWith } from '../../core/config/index.js';
import { type DestinationConfig, destinationSchema } from '../../core/config/schema.js';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { checkDestinationUrl } from '../../http/ssrf/index.js';
import type { DeliveryStore, DestinationState } from '../../store/delivery-store.js';
import { encryptedColumn, type Vault } from '../../vault/vault.js';
import { decodeWebhookSecret } from '../sign/standard-webhooks.js';
import { type DestinationRegistry, type HttpDestination, httpDestinationFromConfig } from './destinations.js';

/** The vault column holding API destinations' secrets and headers (re-encrypted by key rotation). */
export const DESTINATION_SECRETS_COLUMN = encryptedColumn('destinations', 'secrets');

interface Sealed {
  secrets: string[];
  headers: Record<string, string>;
}

export interface DestinationServiceOptions {
  store: DeliveryStore;
  registry: DestinationRegistry;
  vault: Vault;
  /** Ids of the configuration file's destinations (read-only here). */
  configIds: ReadonlySet<string>;
  defaultTimeoutMs: number;
  allowedNetworks: readonly string[];
  clock?: Clock;
  logger?: Logger;
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

  constructor(options: DestinationServiceOptions) {
    this.o = options;
    this.clock = options.clock ?? systemClock;
    options.vault.registerColumn(DESTINATION_SECRETS_COLUMN);
    options.registry.setLoader(async (id) => {
      const state = await options.store.destination(id);
      return state?.origin === 'api' ? this.fromRow(state) : undefined;
    });
  }

  /** Defines every API destination in this process's registry; forgets those deleted elsewhere. */
  async refresh(): Promise<void> {
    const rows = (await this.o.store.destinations()).filter((r) => r.origin === 'api');
    const ids = new Set(rows.map((r) => r.id));
    for (const row of rows) {
      // Unchanged rows are skipped: no decryption every 5 s.
      if (this.loaded.get(row.id) === storedForm(row)) continue;
      try {
        this.o.registry.define(await this.fromRow(row));
        this.loaded.set(row.id, storedForm(row));
      } catch (err) {
        this.o.logger?.error({ err, destination: row.id }, 'stored destination could not be loaded');
      }
    }
    for (const d of this.o.registry.all()) {
      if (d.kind === 'http' && d.origin === 'api' && !ids.has(d.id)) this.forget(d.id);
    }
  }

  async create(input: unknown): Promise<HttpDestination> {
    const config = parseWith(destinationSchema, input, '');
    if (this.o.configIds.has(config.id) || this.o.registry.get(config.id)) {
      throw new PatchbayError(ErrorCode.CONFLICT, `destination ${config.id} already exists`);
    }
    const destination = this.build(config);
    const { definition, secrets } = await this.toRow(config);
    if (!(await this.o.store.insertApiDestination(config.id, definition, secrets, this.clock.now()))) {
      throw new PatchbayError(ErrorCode.CONFLICT, `destination ${config.id} already exists`);
    }
    this.o.registry.define(destination);
    await this.o.registry.state(config.id);
    this.o.logger?.info({ destination: config.id }, 'destination created');
    return destination;
  }

  /** Replaces the given fields (`secrets`/`headers` replace the stored ones when given). */
  async update(id: string, patch: Record<string, unknown>): Promise<HttpDestination> {
    const current = await this.stored(id);
    const config = parseWith(destinationSchema, { ...current, ...patch, id }, '');
    const destination = this.build(config);
    const { definition, secrets } = await this.toRow(config);
    if (!(await this.o.store.updateApiDestination(id, definition, secrets, this.clock.now()))) {
      throw new PatchbayError(ErrorCode.NOT_FOUND, `no destination ${id}`);
    }
    this.o.registry.define(destination);
    this.o.logger?.info({ destination: id }, 'destination updated');
    return destination;
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
    this.o.logger?.info({ destination: id }, 'destination deleted');
  }

  private forget(id: string): void {
    this.o.registry.undefine(id);
    this.loaded.delete(id);
  }

  private build(config: DestinationConfig): HttpDestination {
    if (config.disabled !== undefined) {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'disabled: use POST /destinations/:id/disable');
    }
    const secrets = [...(config.secrets ?? []), ...(config.secret ? [config.secret] : [])];
    for (const [i, s] of secrets.entries()) decodeWebhookSecret(s, `secrets[${i}]`);
    // At once, for a clear answer: https (or an allowed network), no literal private address.
    checkDestinationUrl(config.url, { allowedNetworks: [...this.o.allowedNetworks] });
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
    return this.configOf(state);
  }

  private async toRow(config: DestinationConfig): Promise<{ definition: string; secrets: string }> {
    const { secrets, secret, headers, ...rest } = config;
    const sealed: Sealed = {
      secrets: [...(secrets ?? []), ...(secret ? [secret] : [])],
      headers: headers ?? {},
    };
    return {
      definition: JSON.stringify(rest),
      secrets: await this.o.vault.sealJson(sealed, DESTINATION_SECRETS_COLUMN.context(config.id)),
    };
  }

  private async configOf(state: DestinationState): Promise<DestinationConfig> {
    const definition = JSON.parse(state.definition ?? '{}') as DestinationConfig;
    const sealed = state.secrets
      ? await this.o.vault.openJson<Sealed>(state.secrets, DESTINATION_SECRETS_COLUMN.context(state.id))
      : { secrets: [], headers: {} };
    return { ...definition, secrets: sealed.secrets, headers: sealed.headers };
  }

  private async fromRow(state: DestinationState): Promise<HttpDestination> {
    const config = await this.configOf(state);
    return { ...httpDestinationFromConfig(config, this.o.defaultTimeoutMs), origin: 'api' };
  }
}

function storedForm(row: DestinationState): string {
  return `${row.definition}\u0000${row.secrets}`;
}
