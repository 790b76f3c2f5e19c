import type { Logger } from 'pino';
import { type Clock, systemClock } from '../core/clock.js';
import { parseWith } from '../core/config/index.js';
import { type SourceConfig, sourceSchema } from '../core/config/schema.js';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import type { SourceView, WebhookIngress } from './ingress.js';
import type { StoredSources } from './stored-sources.js';

/** What `PATCH /sources/:id` may change; `verify` is replaced whole (secrets included). */
export interface SourcePatch {
  verify?: unknown;
  bodyLimit?: unknown;
  retention?: unknown;
}

/** How old this process's copy of API-made sources may be before a request reads the stored version. */
export const SOURCE_REVALIDATE_MS = 1000;

export interface SourceServiceOptions {
  clock?: Clock;
  logger?: Logger;
  /** Defaults to `SOURCE_REVALIDATE_MS`. */
  revalidateMs?: number;
  /**
   * Counts a failure to learn what other processes did: `read` (the store did not answer; the copy
   * serves and the read is tried again `revalidateMs` later) or `decode` (a stored source no longer
   * loads: its key or limits changed). Each is also logged.
   */
  onFailure?: (stage: 'read' | 'decode') => void;
}

/**
 * Webhook sources made through the admin API: validated with the configuration's own schema, stored
 * with their secrets sealed by the vault, and defined in the ingress. Sources from the configuration
 * file cannot be changed here (the file would put them back at the next start).
 *
 * Other processes make, change and delete sources too. This one learns of it by versioned reads, as
 * it does of API destinations: once its copy is `revalidateMs` old, the next request reads the stored
 * version (one small aggregate), and the rows only when it moved.
 */
export class SourceService {
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly revalidateMs: number;
  private readonly onFailure: ((stage: 'read' | 'decode') => void) | undefined;
  /** The stored form (definition + ciphertext) of each API source this process has defined. */
  private readonly loaded = new Map<string, string>();
  /** The stored version this process's copy matches, and when it was last read. */
  private version: string | undefined;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly stored: StoredSources,
    private readonly ingress: WebhookIngress,
    private readonly configIds: ReadonlySet<string>,
    options: SourceServiceOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.revalidateMs = options.revalidateMs ?? SOURCE_REVALIDATE_MS;
    this.onFailure = options.onFailure;
  }

  /**
   * Brings the copy up to date when it is `revalidateMs` old, or now with `force`; undefined when it is
   * fresh. Callers that arrive while a read is under way share it. Never rejects: a failed read is
   * logged and counted once, the copy serves, and the read is tried again `revalidateMs` later.
   */
  revalidate(force = false): Promise<void> | undefined {
    if (!force && this.clock.now() - this.checkedAt < this.revalidateMs) return undefined;
    if (this.reading) return this.reading;
    const startedAt = this.clock.now();
    this.reading = this.readIfMoved()
      .catch((err: unknown) => {
        this.onFailure?.('read');
        this.logger?.warn(
          { err: errorMessage(err) },
          "reading the sources other processes made or changed failed: this process's copy serves",
        );
      })
      .finally(() => {
        this.checkedAt = startedAt;
        this.reading = undefined;
      });
    return this.reading;
  }

  /** Reads every stored source now, whatever the version says (after any read under way). */
  async refresh(): Promise<void> {
    await this.reading;
    this.version = undefined;
    await this.revalidate(true);
  }

  private async readIfMoved(): Promise<void> {
    const version = await this.stored.version();
    if (version === this.version) return;
    await this.load();
    this.version = version;
  }

  /** Defines every stored source in the ingress, and drops those deleted by another process. */
  private async load(): Promise<void> {
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
        this.onFailure?.('decode');
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
