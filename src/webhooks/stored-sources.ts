import type { SourceConfig } from '../core/config/schema.js';
import type { SourceStore, StoredSource } from '../store/source-store.js';
import { columnContext, encryptedColumn } from '../vault/vault.js';
import type { SecretSealer } from './secret-sealer.js';

/** The vault column holding API-made sources' secrets (re-encrypted by key rotation). */
export const SOURCE_SECRETS_COLUMN = encryptedColumn('sources', 'secrets');

/**
 * API-made sources as stored: the definition in clear (it holds no secret), the secrets sealed by the
 * vault. Reads and writes go through the SourceStore; this class only encodes and decodes.
 */
export class StoredSources {
  constructor(
    private readonly store: SourceStore,
    private readonly sealer: SecretSealer,
  ) {}

  async load(id: string): Promise<SourceConfig | undefined> {
    const row = await this.store.get(id);
    return row ? this.decode(row) : undefined;
  }

  /** Changes whenever a stored source does (see `SourceStore.version`). */
  version(): Promise<string> {
    return this.store.version();
  }

  /** Every stored source, undecoded: `decode` only those whose `formOf` changed. */
  rows(): Promise<StoredSource[]> {
    return this.store.list();
  }

  formOf(row: StoredSource): string {
    return `${row.definition}\u0000${row.secrets}`;
  }

  async insert(source: SourceConfig, now: number): Promise<boolean> {
    return this.store.insert({ ...(await this.encode(source)), createdAt: now, updatedAt: now });
  }

  async update(source: SourceConfig, now: number): Promise<boolean> {
    const row = await this.encode(source);
    return this.store.update(source.id, {
      definition: row.definition,
      secrets: row.secrets,
      updatedAt: now,
    });
  }

  delete(id: string): Promise<boolean> {
    return this.store.delete(id);
  }

  async decode(row: StoredSource): Promise<SourceConfig> {
    const definition = JSON.parse(row.definition) as SourceConfig;
    const secrets = await this.sealer.openJson<string[]>(row.secrets, SOURCE_SECRETS_COLUMN.context(row.id));
    return { ...definition, verify: { ...definition.verify, secrets } };
  }

  private async encode(source: SourceConfig): Promise<Omit<StoredSource, 'createdAt' | 'updatedAt'>> {
    const { secrets, ...verify } = source.verify;
    return {
      id: source.id,
      definition: JSON.stringify({ ...source, verify }),
      secrets: await this.sealer.sealJson(secrets, columnContext('sources', source.id, 'secrets')),
    };
  }
}
