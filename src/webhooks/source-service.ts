import type { Logger } from 'pino';
import { type Clock, systemClock } from '../core/clock.js';
import { parseWith } from '../core/config/index.js';
import { type SourceConfig, sourceSchema } from '../core/config/schema.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { SourceView, WebhookIngress } from './ingress.js';
import type { StoredSources } from './stored-sources.js';

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
    private readonly stored: StoredSources,
    private readonly ingress: WebhookIngress,
    private readonly configIds: ReadonlySet<string>,
    options: { clock?: Clock; logger?: Logger } = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
  }

  /** Defines every stored source in the ingress, and drops those deleted by another process. */
  async refresh(): Promise<void> {
    const rows = await this.stored.rows();
    const ids = new Set(rows.map((r) => r.id));
    for (const row of rows) {
      const form = this.stored.formOf(row);
      // Unchanged rows are skipped: no decryption, no new verifier.
      if (this.configIds.has(row.id) || this.loaded.get(row.id) === form) continue;
      try {
        this.ingress.define(await this.stored.decode(row), 'api');
        this.loaded.set(row.id, form);
      } catch (err) {
        this.logger?.error({ err, source: row.id }, 'stored webhook source could not be loaded');
      }
    }
    for (const view of this.ingress.list()) {
      if (view.origin === 'api' && !ids.has(view.id)) this.forget(view.id);
    }
  }

  list(): SourceView[] {
    return this.ingress.list();
  }

  get(id: string): SourceView | undefined {
    return this.ingress.get(id);
  }

  async create(input: unknown): Promise<SourceView> {
    const source = parseWith(sourceSchema, input, '');
    if (this.configIds.has(source.id) || this.ingress.get(source.id)) {
      throw new PatchbayError(ErrorCode.CONFLICT, `source ${source.id} already exists`);
    }
    // Defining first checks the secrets and options (a verifier is built) before anything is stored.
    const view = this.ingress.define(source, 'api');
    try {
      if (!(await this.stored.insert(source, this.clock.now()))) {
        throw new PatchbayError(ErrorCode.CONFLICT, `source ${source.id} already exists`);
      }
    } catch (err) {
      this.ingress.remove(source.id);
      throw err;
    }
    this.logger?.info({ source: source.id, scheme: source.verify.scheme }, 'webhook source created');
    return view;
  }

  async update(id: string, patch: SourcePatch): Promise<SourceView> {
    const current = await this.current(id);
    const next = parseWith(sourceSchema, { ...current, ...withoutUndefined(patch), id }, '');
    const view = this.ingress.define(next, 'api');
    await this.stored.update(next, this.clock.now());
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
    if (!(await this.stored.delete(id))) throw new PatchbayError(ErrorCode.NOT_FOUND, `no source ${id}`);
    this.forget(id);
    this.logger?.info({ source: id }, 'webhook source deleted');
  }

  private forget(id: string): void {
    this.ingress.remove(id);
    this.loaded.delete(id);
  }

  private async current(id: string): Promise<SourceConfig> {
    if (this.configIds.has(id)) {
      throw new PatchbayError(
        ErrorCode.CONFLICT,
        `source ${id} is declared in the configuration file: change it there`,
      );
    }
    const source = await this.stored.load(id);
    if (!source) throw new PatchbayError(ErrorCode.NOT_FOUND, `no source ${id}`);
    return source;
  }
}

function withoutUndefined(patch: SourcePatch): Record<string, unknown> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
}
