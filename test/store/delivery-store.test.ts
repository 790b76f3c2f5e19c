import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { type AttemptUpdate, type Delivery, DeliveryStore } from '../../src/store/delivery-store.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';

const delivery = (id: string, changes: Partial<Delivery> = {}): Delivery => ({
  id,
  event_id: `evt_${id}`,
  destination_id: 'app',
  status: 'pending',
  attempts: 0,
  cycle_attempts: 0,
  next_attempt_at: null,
  last_status: null,
  last_error: null,
  failing_notified: 0,
  manual: 0,
  created_at: 1,
  updated_at: 1,
  succeeded_at: null,
  ...changes,
});

const update = (id: string, changes: Partial<AttemptUpdate> = {}): AttemptUpdate => ({
  id,
  status: null,
  attempts: 1,
  cycle_attempts: 1,
  next_attempt_at: null,
  last_status: null,
  last_error: null,
  failing_notified: null,
  manual: 0,
  updated_at: 1000,
  succeeded_at: null,
  ...changes,
});

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`delivery store on ${dialect.name}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    let store: DeliveryStore;

    beforeAll(async () => {
      ({ database, cleanup } = await migratedDatabase(dialect));
      store = new DeliveryStore(database);
    });
    afterAll(async () => cleanup?.());
    beforeEach(async () => {
      await database.db.deleteFrom('deliveries').execute();
    });

    it('writes a batch of attempt outcomes in one go, keeping the columns a row leaves null', async () => {
      await database.transaction((tx) =>
        store.insertMany(tx, [
          delivery('a'),
          delivery('b', { failing_notified: 1, succeeded_at: 5, manual: 1 }),
          delivery('c', { last_error: 'old', next_attempt_at: 7 }),
        ]),
      );
      await database.transaction((tx) =>
        store.recordAttempts(tx, [
          update('a', { status: 'succeeded', succeeded_at: 1000, last_status: 200 }),
          update('b', { attempts: 3, cycle_attempts: 2, next_attempt_at: 2000, last_error: 'HTTP 500' }),
          update('c', { status: 'failed', failing_notified: 1, last_status: 410, last_error: 'gone' }),
        ]),
      );
      expect(await store.get('a')).toMatchObject({
        status: 'succeeded',
        succeeded_at: 1000,
        last_status: 200,
        attempts: 1,
        updated_at: 1000,
      });
      expect(await store.get('b')).toMatchObject({
        status: 'pending',
        attempts: 3,
        cycle_attempts: 2,
        next_attempt_at: 2000,
        last_error: 'HTTP 500',
        failing_notified: 1,
        succeeded_at: 5,
        manual: 0,
      });
      expect(await store.get('c')).toMatchObject({
        status: 'failed',
        failing_notified: 1,
        next_attempt_at: null,
        last_status: 410,
        last_error: 'gone',
      });
    });

    it('applies a batch naming a delivery twice in order, the last one winning', async () => {
      await database.transaction((tx) => store.insertMany(tx, [delivery('a')]));
      await database.transaction((tx) =>
        store.recordAttempts(tx, [
          update('a', { next_attempt_at: 10, last_error: 'first' }),
          update('a', { attempts: 2, status: 'succeeded', succeeded_at: 20 }),
        ]),
      );
      expect(await store.get('a')).toMatchObject({
        status: 'succeeded',
        attempts: 2,
        next_attempt_at: null,
        last_error: null,
        succeeded_at: 20,
      });
    });
  });
}
