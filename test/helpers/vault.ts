import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { Clock } from '../../src/core/clock.js';
import type { PublishInput } from '../../src/core/publisher.js';
import type { Database } from '../../src/store/database.js';
import {
  formatKey,
  generateKey,
  openVault,
  type VaultServices,
  type VaultSettings,
} from '../../src/vault/index.js';
import { dialects, migratedDatabase } from './databases.js';

/** A fresh key written the way `PATCHBAY_ENCRYPTION_KEY` takes it. */
export function newKeyText(): string {
  return formatKey(generateKey());
}

export function tempDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'patchbay-vault-'));
}

/** Collects published operational events. */
export class CapturingPublisher {
  readonly events: PublishInput[] = [];
  async publish(input: PublishInput): Promise<void> {
    this.events.push(input);
  }
  types(): string[] {
    return this.events.map((e) => e.type);
  }
}

export interface TestVault extends VaultServices {
  publisher: CapturingPublisher;
  key: string;
}

/** Opens the vault on `database` with a fresh key from the environment (never the developer's). */
export async function openTestVault(
  database: Database,
  options: { key?: string; clock?: Clock; settings?: VaultSettings; dataDir?: string } = {},
): Promise<TestVault> {
  const key = options.key ?? newKeyText();
  const publisher = new CapturingPublisher();
  const services = await openVault({
    database,
    env: { PATCHBAY_ENCRYPTION_KEY: key },
    dataDir: options.dataDir ?? tempDataDir(),
    publisher,
    ...(options.clock && { clock: options.clock }),
    settings: { allowInsecureLoopback: true, ...options.settings },
  });
  return { ...services, publisher, key };
}

/** A random secret that is easy to grep for. */
export function secretValue(label: string): string {
  return `${label}-${randomBytes(12).toString('hex')}`;
}

/**
 * For a test file (or suite): one migrated SQLite database and a vault on it, opened before its tests and
 * dropped after them; `opened` receives both.
 */
export function vaultPerFile(opened: (database: Database, vault: TestVault) => void): void {
  let cleanup: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const db = await migratedDatabase(dialects[0]!);
    cleanup = db.cleanup;
    opened(db.database, await openTestVault(db.database));
  });
  afterAll(async () => {
    await cleanup?.();
  });
}
