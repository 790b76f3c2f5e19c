import type { DestinationConfig } from '../../core/config/schema.js';
import type { DeliveryStore, DestinationState } from '../../store/delivery-store.js';
import { encryptedColumn } from '../../vault/vault.js';
import type { SecretSealer } from '../secret-sealer.js';
import { type HttpDestination, httpDestinationFromConfig } from './destinations.js';

/** The vault column holding API destinations' secrets and headers (re-encrypted by key rotation). */
export const DESTINATION_SECRETS_COLUMN = encryptedColumn('destinations', 'secrets');

interface Sealed {
  secrets: string[];
  headers: Record<string, string>;
  /**
   * The URL's query (`?token=…`), sealed: receivers put credentials there, and the API masks it. Rows
   * written before it was sealed keep the query in the definition's URL and have none here.
   */
  query?: string;
  /** An e-mail destination's SMTP password (`email.password`). */
  smtpPassword?: string;
}

/**
 * API-made destinations as stored in their `destinations` row: the definition in clear (no secret in
 * it), signing secrets, headers, the URL's query and an SMTP password sealed by the vault. Only encodes and decodes; the store does the I/O.
 */
export class StoredDestinations {
  constructor(
    private readonly store: DeliveryStore,
    private readonly sealer: SecretSealer,
    private readonly defaultTimeoutMs: number,
  ) {}

  /** The destination of an API row, or undefined when there is none (deleted, or not the API's). */
  async load(id: string): Promise<HttpDestination | undefined> {
    const state = await this.store.destination(id);
    return state?.origin === 'api' ? this.decode(state) : undefined;
  }

  formOf(row: DestinationState): string {
    return `${row.definition}\u0000${row.secrets}`;
  }

  async decode(state: DestinationState): Promise<HttpDestination> {
    const config = await this.configOf(state);
    return { ...httpDestinationFromConfig(config, this.defaultTimeoutMs), origin: 'api' };
  }

  async configOf(state: DestinationState): Promise<DestinationConfig> {
    const definition = JSON.parse(state.definition ?? '{}') as DestinationConfig;
    const sealed = state.secrets
      ? await this.sealer.openJson<Sealed>(state.secrets, DESTINATION_SECRETS_COLUMN.context(state.id))
      : { secrets: [], headers: {} };
    const url = sealed.query ? `${definition.url}${sealed.query}` : definition.url;
    const email = definition.email && {
      ...definition.email,
      ...(sealed.smtpPassword !== undefined && { password: sealed.smtpPassword }),
    };
    return {
      ...definition,
      url,
      secrets: sealed.secrets,
      headers: sealed.headers,
      ...(email && { email }),
    };
  }

  async encode(config: DestinationConfig): Promise<{ definition: string; secrets: string }> {
    const { secrets, secret, headers, email, ...others } = config;
    const { password, ...login } = email ?? {};
    const rest = email ? { ...others, email: login } : others;
    const url = new URL(config.url);
    const query = url.search;
    url.search = '';
    const sealed: Sealed = {
      secrets: [...(secrets ?? []), ...(secret ? [secret] : [])],
      headers: headers ?? {},
      ...(query && { query }),
      ...(password !== undefined && { smtpPassword: password }),
    };
    return {
      definition: JSON.stringify(query ? { ...rest, url: url.href } : rest),
      secrets: await this.sealer.sealJson(sealed, DESTINATION_SECRETS_COLUMN.context(config.id)),
    };
  }
}
