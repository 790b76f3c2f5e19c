import type { Logger } from 'pino';
import { type Clock, systemClock } from '../core/clock.js';
import { parseWith } from '../core/config/index.js';
import { type SourceConfig, sourceSchema } from '../core/config/schema.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { SourceRow, SourceStore } from '../store/source-store.js';
import { columnContext, encryptedColumn, type Vault } from '../vault/vault.js';
import type { SourceView, WebhookIngress } from './ingress.js';

/** The vault column holding API-made sources' secrets (re-encrypted by key rotation). */
export const SOURCE_SECRETS_COLUMN = encryptedColumn('sources', 'secrets');

/** What `PATCH /sources/:id` may change; `verify` is replaced whole (secrets included). */
export interface SourcePatch {
  verify?: unknown;
  bodyLimit?: unknown;
  retention?: unknown;
}

/**
 * Webhook sources made through the admin API: validated with the configuration's own schema, stored
 * with their secrets sealed by the vault, and defined in the ingress. Sources from the configuration
 * file cannot be changed here (the file would put them back at the next start).
 */
export class SourceService {
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  /** The stored form (definition + ciphertext) of each API source this process has defined. */
  private readonly loaded = new Map<string, string>();

  constructor(
    private readonly store: SourceStore,
    private readonly vault: Vault,
    private readonly ingress: WebhookIngress,
    private readonly configIds: ReadonlySet<string>,
    options: { clock?: Clock; logger?: Logger } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    vault.registerColumn(SOURCE_SECRETS_COLUMN);
    ingress.setLoader((id) => this.load(id));
  }

  /** Defines every stored source in the ingress, and drops those deleted by another process. */
  async refresh(): Promise<void> {
    const rows = await this.store.list();
    const ids = new Set(rows.map((r) => r.id));
    for (const row of rows) {
      // Unchanged rows are skipped: no decryption, no new verifier, every 5 s.
      if (this.configIds.has(row.id) || this.loaded.get(row.id) === storedForm(row)) continue;
      try {
        this.ingress.define(await this.fromRow(row), 'api');
        this.loaded.set(row.id, storedForm(row));
      } catch (err) {
        this.logger?.error({ err, source: row.id }, 'stored webhook source could not be loaded');
      }
    }
    for (const view of this.ingress.list()) {
      if (view.origin === 'api' && !ids.has(view.id)) this.forget(view.id);
    }
  }

  async create(input: unknown): Promise<SourceView> {
    const source = parseWith(sourceSchema, input, '');
    if (this.configIds.has(source.id) || this.ingress.get(source.id)) {
      throw new PatchbayError(ErrorCode.CONFLICT, `source ${source.id} already exists`);
    }
    // Defining first checks the secrets and options (a verifier is built) before anything is stored.
    const view = this.ingress.define(source, 'api');
    const now = this.clock.now();
    try {
      const inserted = await this.store.insert({
        ...(await this.toRow(source)),
        created_at: now,
        updated_at: now,
      });
      if (!inserted) throw new PatchbayError(ErrorCode.CONFLICT, `source ${source.id} already exists`);
    } catch (err) {
      this.ingress.remove(source.id);
      throw err;
    }
    this.logger?.info({ source: source.id, scheme: source.verify.scheme }, 'webhook source created');
    return view;
  }

  async update(id: string, patch: SourcePatch): Promise<SourceView> {
    const current = await this.stored(id);
    const next = parseWith(sourceSchema, { ...current, ...withoutUndefined(patch), id }, '');
    const view = this.ingress.define(next, 'api');
    const row = await this.toRow(next);
    await this.store.update(id, {
      definition: row.definition,
      secrets: row.secrets,
      updated_at: this.clock.now(),
    });
    this.logger?.info({ source: id }, 'webhook source updated');
    return view;
  }

  async delete(id: string): Promise<void> {
    if (this.configIds.has(id)) {
      throw new PatchbayError(
        ErrorCode.CONFLICT,
        `source ${id} is declared in the configuration file: remove it there`,
      );
    }
    if (!(await this.store.delete(id))) throw new PatchbayError(ErrorCode.NOT_FOUND, `no source ${id}`);
    this.forget(id);
    this.logger?.info({ source: id }, 'webhook source deleted');
  }

  private forget(id: string): void {
    this.ingress.remove(id);
    this.loaded.delete(id);
  }

  private async stored(id: string): Promise<SourceConfig> {
    if (this.configIds.has(id)) {
      throw new PatchbayError(
        ErrorCode.CONFLICT,
        `source ${id} is declared in the configuration file: change it there`,
      );
    }
    const row = await this.store.get(id);
    if (!row) throw new PatchbayError(ErrorCode.NOT_FOUND, `no source ${id}`);
    return this.fromRow(row);
  }

  private async load(id: string): Promise<SourceConfig | undefined> {
    const row = await this.store.get(id);
    return row ? this.fromRow(row) : undefined;
  }

  private async toRow(source: SourceConfig): Promise<Omit<SourceRow, 'created_at' | 'updated_at'>> {
    const { secrets, ...verify } = source.verify;
    return {
      id: source.id,
      definition: JSON.stringify({ ...source, verify }),
      secrets: await this.vault.sealJson(secrets, columnContext('sources', source.id, 'secrets')),
    };
  }

  private async fromRow(row: SourceRow): Promise<SourceConfig> {
    const definition = JSON.parse(row.definition) as SourceConfig;
    const secrets = await this.vault.openJson<string[]>(row.secrets, SOURCE_SECRETS_COLUMN.context(row.id));
    return { ...definition, verify: { ...definition.verify, secrets } };
  }
}

function storedForm(row: SourceRow): string {
  return `${row.definition}\u0000${row.secrets}`;
}

function withoutUndefined(patch: SourcePatch): Record<string, unknown> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
}
