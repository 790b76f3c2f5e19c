import { randomBytes } from 'node:crypto';
import { type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, isPatchbayError, PatchbayError } from '../core/errors.js';
import { type Logger, silentLogger } from '../core/logger.js';
import type { Database } from '../store/database.js';
import {
  type CiphertextColumn,
  type EncryptionKey,
  type EncryptionKeyStatus,
  EncryptionKeyStore,
} from '../store/encryption-key-store.js';
import type { RandomBytes } from './cipher.js';
import type { KeyEntry } from './key-material.js';
import {
  createGeneratedKeyFile,
  findKeySource,
  generatedKeyPath,
  isWorldReadable,
  KEY_ENV,
  KEY_FILE_ENV,
  type KeySource,
} from './key-source.js';
import { Keyring } from './keyring.js';

/** A column holding vault ciphertext, with the context its values were sealed under. */
export interface EncryptedColumn extends CiphertextColumn {
  /** The context (additional authenticated data) of the value in row `id`. */
  context(id: string): string;
}

/** The context of a value stored in `table`.`column` of row `id`: `table/id/column`. */
export function columnContext(table: string, id: string, column: string): string {
  return `${table}/${id}/${column}`;
}

/** A column whose context follows `columnContext`. */
export function encryptedColumn(table: string, column: string, idColumn = 'id'): EncryptedColumn {
  return { table, column, idColumn, context: (id) => columnContext(table, id, column) };
}

/** The vault's own encrypted columns; other modules' come in through `VaultOptions.columns`. */
export const VAULT_COLUMNS: readonly EncryptedColumn[] = [
  encryptedColumn('connections', 'secrets'),
  encryptedColumn('connections', 'credentials'),
  encryptedColumn('oauth_states', 'secrets'),
];

export interface VaultOptions {
  database: Database;
  /** Where `PATCHBAY_ENCRYPTION_KEY` / `PATCHBAY_ENCRYPTION_KEY_FILE` are read. Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Where the generated key file goes when no key is configured. Defaults to `./.patchbay`. */
  dataDir?: string;
  logger?: Logger;
  clock?: Clock;
  random?: RandomBytes;
  /**
   * Only check the keys against the store: never generate a key file, never register a key. Defaults
   * to false (`patchbay doctor` sets it).
   */
  checkOnly?: boolean;
  /**
   * How long a process trusts its idea of the primary key before reading it from the store again, in
   * ms. A rotation waits this long before its last pass, so no process still encrypts with an old key.
   * Defaults to 5 s.
   */
  primaryRefreshMs?: number;
  /** Encrypted columns of other modules (sources', destinations' secrets), re-encrypted by rotation too. */
  columns?: readonly EncryptedColumn[];
}

const DEFAULTS = { primaryRefreshMs: 5000 };

const CHECK_PLAINTEXT = 'patchbay key check v1';
const checkContext = (id: string) => `encryption_keys/${id}/check_value`;

function keyList(ids: readonly string[]): string {
  return ids.map((id) => `"${id}"`).join(', ');
}

/**
 * Encryption at rest for every secret Patchbay stores. Holds the keyring, knows (from the store) which
 * key encrypts new data, and refuses to start with a wrong or missing key: each key registered in the
 * store has a key-check value, a known text encrypted with it, which a configured key must open.
 */
export class Vault {
  readonly keyring: Keyring;
  readonly keys: EncryptionKeyStore;
  readonly source: KeySource;
  readonly clock: Clock;
  readonly primaryRefreshMs: number;
  private readonly logger: Logger;
  private readonly columns: readonly EncryptedColumn[];
  private primary: string;
  private primaryCheckedAt: number;

  private constructor(
    keyring: Keyring,
    keys: EncryptionKeyStore,
    source: KeySource,
    primary: string,
    options: VaultOptions & typeof DEFAULTS,
  ) {
    this.keyring = keyring;
    this.keys = keys;
    this.source = source;
    this.primary = primary;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.primaryRefreshMs = options.primaryRefreshMs;
    this.primaryCheckedAt = this.clock.now();
    const extra = (options.columns ?? []).filter(
      (c) => !VAULT_COLUMNS.some((v) => v.table === c.table && v.column === c.column),
    );
    this.columns = [...VAULT_COLUMNS, ...extra];
  }

  /**
   * Loads the keys (environment, key file, or a key file generated now for a database with no secrets)
   * and checks them against the store. Throws `ENCRYPTION_KEY_INVALID` with one message saying what is
   * wrong and what to do: never starts with a key that would decrypt to garbage or fail later.
   */
  static async open(options: VaultOptions): Promise<Vault> {
    const merged = { ...DEFAULTS, ...options };
    if (!Number.isFinite(merged.primaryRefreshMs) || merged.primaryRefreshMs < 0) {
      throw new PatchbayError(
        ErrorCode.CONFIG_INVALID,
        `primaryRefreshMs must be a duration ≥ 0 in ms, got ${String(merged.primaryRefreshMs)}`,
      );
    }
    const env = options.env ?? process.env;
    const clock = options.clock ?? systemClock;
    const logger = options.logger ?? silentLogger;
    const random = options.random ?? randomBytes;
    const store = new EncryptionKeyStore(options.database);
    let rows = await store.all();

    let source = findKeySource({ env, ...(options.dataDir !== undefined && { dataDir: options.dataDir }) });
    if (!source) {
      if (rows.length > 0) {
        const live = rows.filter((r) => r.status === 'primary' || r.status === 'previous').map((r) => r.id);
        throw new PatchbayError(
          ErrorCode.ENCRYPTION_KEY_INVALID,
          `no encryption key is configured, but this database holds secrets encrypted with key ${keyList(live)}: ` +
            `set ${KEY_ENV} or ${KEY_FILE_ENV} to that key (or restore the key file it was generated in)`,
        );
      }
      if (options.checkOnly) {
        throw new PatchbayError(
          ErrorCode.ENCRYPTION_KEY_INVALID,
          `no encryption key is configured: start will generate ${generatedKeyPath(options.dataDir)} ` +
            `(or set ${KEY_ENV} or ${KEY_FILE_ENV})`,
          { keyCanBeGenerated: true },
        );
      }
      const generated = createGeneratedKeyFile(options.dataDir, random);
      source = generated.source;
      if (generated.created) {
        logger.warn(
          { keyFile: source.path },
          `NO ENCRYPTION KEY CONFIGURED: generated one in ${source.path} (mode 0600). Every stored ` +
            `credential is encrypted with it: back this file up with the database, since without it the ` +
            `credentials are lost. Set ${KEY_ENV} or ${KEY_FILE_ENV} to manage the key yourself.`,
        );
      }
    }
    if (source.path && isWorldReadable(source.path)) {
      logger.warn(
        { keyFile: source.path },
        `the key file ${source.path} can be read by other users; restrict it with chmod 600`,
      );
    }
    const entries = source.read();
    const keyring = new Keyring(entries, random);

    for (const entry of entries) verifyKey(entry, rows, keyring, source);
    const primaryRow = rows.find((r) => r.status === 'primary');
    if (primaryRow) {
      const missing = rows
        .filter((r) => (r.status === 'primary' || r.status === 'previous') && !keyring.has(r.id))
        .map((r) => r.id);
      if (missing.length > 0) {
        const what = missing.includes(primaryRow.id)
          ? 'encrypted'
          : 'still partly encrypted (rotation not finished)';
        throw new PatchbayError(
          ErrorCode.ENCRYPTION_KEY_INVALID,
          `the encryption key does not match this database: its secrets are ${what} with key ${keyList(missing)}, ` +
            `but ${source.description} holds only ${keyList(keyring.ids())}. Set the key(s) this database was ` +
            `encrypted with; a different key would only decrypt to garbage`,
        );
      }
    }
    const now = clock.now();
    const fresh = (entry: KeyEntry, status: EncryptionKeyStatus): EncryptionKey => ({
      id: entry.id,
      checkValue: keyring.seal(entry.id, CHECK_PLAINTEXT, checkContext(entry.id)),
      status,
      createdAt: now,
      updatedAt: now,
    });
    if (options.checkOnly) {
      const primary = primaryRow?.id ?? entries[0]!.id;
      return new Vault(keyring, store, source, primary, { ...merged, clock, logger });
    }
    if (!primaryRow) await store.registerFirstPrimary(fresh(entries[0]!, 'primary'));
    const unknown = entries.filter((e) => !rows.some((r) => r.id === e.id));
    await store.register(unknown.map((e) => fresh(e, 'standby')));
    rows = await store.all();
    // Another process may have set up this database at the same moment with another key.
    for (const entry of entries) verifyKey(entry, rows, keyring, source);
    const primary = rows.find((r) => r.status === 'primary')!;
    if (!keyring.has(primary.id)) {
      throw new PatchbayError(
        ErrorCode.ENCRYPTION_KEY_INVALID,
        `the encryption key does not match this database: it was set up with key "${primary.id}", ` +
          `which ${source.description} does not hold`,
      );
    }
    logger.debug({ keys: keyring.ids(), primary: primary.id, source: source.kind }, 'vault opened');
    return new Vault(keyring, store, source, primary.id, { ...merged, clock, logger });
  }

  encryptedColumns(): readonly EncryptedColumn[] {
    return this.columns;
  }

  /** The key new data is encrypted with, re-read from the store at most every `primaryRefreshMs`. */
  async primaryKeyId(): Promise<string> {
    if (this.clock.now() - this.primaryCheckedAt >= this.primaryRefreshMs) {
      const stored = await this.keys.primaryId();
      this.primaryCheckedAt = this.clock.now();
      if (stored && stored !== this.primary) {
        if (!this.keyring.has(stored)) await this.reloadKeys();
        if (!this.keyring.has(stored)) {
          throw new PatchbayError(
            ErrorCode.ENCRYPTION_KEY_INVALID,
            `the encryption key was rotated to "${stored}", which this process does not hold; ` +
              `restart it with the new key in ${this.source.description}`,
          );
        }
        this.logger.info(
          { from: this.primary, to: stored },
          'encryption key rotated: new data uses the new key',
        );
        this.primary = stored;
      }
    }
    return this.primary;
  }

  /** Switches this process to a new primary at once (the rotating process; others follow within the refresh). */
  usePrimary(id: string): void {
    if (!this.keyring.has(id)) {
      throw new PatchbayError(ErrorCode.ENCRYPTION_KEY_INVALID, `encryption key "${id}" is not loaded`);
    }
    this.primary = id;
    this.primaryCheckedAt = this.clock.now();
  }

  /** Re-reads the key source for keys added since start (a rotation in another process), verifying them. */
  async reloadKeys(): Promise<void> {
    let entries: KeyEntry[];
    try {
      entries = this.source.read();
    } catch (err) {
      this.logger.warn({ err: isPatchbayError(err) ? err.message : String(err) }, 'cannot re-read the keys');
      return;
    }
    const rows = await this.keys.all();
    for (const entry of entries) {
      if (this.keyring.has(entry.id)) continue;
      verifyKey(entry, rows, this.keyring, this.source);
      this.keyring.add(entry);
    }
  }

  async seal(plaintext: string | Buffer, context: string): Promise<string> {
    return this.keyring.seal(await this.primaryKeyId(), plaintext, context);
  }

  async sealJson(value: unknown, context: string): Promise<string> {
    return this.seal(JSON.stringify(value), context);
  }

  /** Decrypts; a key added by a rotation elsewhere is picked up from the key source on first sight. */
  async open(ciphertext: string, context: string): Promise<string> {
    const keyId = this.keyring.keyIdOf(ciphertext);
    if (!this.keyring.has(keyId)) await this.reloadKeys();
    return this.keyring.open(ciphertext, context).toString('utf8');
  }

  async openJson<T>(ciphertext: string, context: string): Promise<T> {
    return JSON.parse(await this.open(ciphertext, context)) as T;
  }

  /** A key-check value for a key about to be registered (rotation). */
  checkValue(id: string): string {
    return this.keyring.seal(id, CHECK_PLAINTEXT, checkContext(id));
  }
}

/** A configured key whose id the store knows must open that id's key-check value. */
function verifyKey(
  entry: KeyEntry,
  rows: readonly EncryptionKey[],
  keyring: Keyring,
  source: KeySource,
): void {
  const row = rows.find((r) => r.id === entry.id);
  if (!row) return;
  let ok = false;
  try {
    const probe = new Keyring([entry]);
    ok = probe.open(row.checkValue, checkContext(entry.id)).toString('utf8') === CHECK_PLAINTEXT;
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new PatchbayError(
      ErrorCode.ENCRYPTION_KEY_INVALID,
      `the encryption key does not match this database: key "${entry.id}" in ${source.description} fails ` +
        `the key check of the key this database registered under that id. Set the key this database was ` +
        `encrypted with; a different key would only decrypt to garbage`,
    );
  }
  if (!keyring.has(entry.id)) keyring.add(entry);
}
