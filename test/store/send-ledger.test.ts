import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { SendLedgerStore } from '../../src/store/send-ledger-store.js';
import { dialects, migratedDatabase } from '../helpers/databases.js';

describe.each(dialects)('send ledger on $name', (dialect) => {
  let database: Database;
  let cleanup: () => Promise<void>;
  let ledger: SendLedgerStore;
  beforeAll(async () => {
    ({ database, cleanup } = await migratedDatabase(dialect));
    ledger = new SendLedgerStore(database);
  });
  afterAll(async () => {
    await cleanup?.();
  });

  it('claims a key once; a second claim sees the pending attempt', async () => {
    expect(await ledger.claim('s', 'k1', 1000)).toEqual({ claimed: true, attemptAt: 1000 });
    expect(await ledger.claim('s', 'k1', 2000)).toEqual({
      claimed: false,
      entry: { state: 'pending', attemptAt: 1000, attempts: 1 },
    });
    expect(await ledger.claim('other', 'k1', 2000)).toMatchObject({ claimed: true });
  });

  it('lets exactly one of two recoverers retake a pending attempt', async () => {
    await ledger.claim('s', 'k2', 1000);
    const [a, b] = await Promise.all([
      ledger.retake('s', 'k2', 1000, 5000),
      ledger.retake('s', 'k2', 1000, 5001),
    ]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    expect(await ledger.get('s', 'k2')).toMatchObject({ state: 'pending', attempts: 2 });
  });

  it('keeps the result of a completed write and frees a released key', async () => {
    await ledger.claim('s', 'k3', 1000);
    await ledger.complete('s', 'k3', { messageId: 'abc' }, 1100);
    expect(await ledger.claim('s', 'k3', 2000)).toEqual({
      claimed: false,
      entry: { state: 'done', result: { messageId: 'abc' }, attempts: 1 },
    });
    expect(await ledger.retake('s', 'k3', 1000, 3000)).toBe(false);
    await ledger.claim('s', 'k4', 1000);
    await ledger.release('s', 'k4', 999);
    expect(await ledger.get('s', 'k4')).toMatchObject({ state: 'pending' });
    await ledger.release('s', 'k4', 1000);
    expect(await ledger.claim('s', 'k4', 4000)).toEqual({ claimed: true, attemptAt: 4000 });
  });

  it('prunes completed writes older than the horizon only', async () => {
    await ledger.claim('p', 'old', 10);
    await ledger.complete('p', 'old', null, 20);
    await ledger.claim('p', 'pending', 10);
    expect(await ledger.prune(1000)).toBeGreaterThanOrEqual(1);
    expect(await ledger.get('p', 'old')).toBeUndefined();
    expect(await ledger.get('p', 'pending')).toMatchObject({ state: 'pending' });
  });
});
