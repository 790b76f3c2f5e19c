import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { idAt } from '../../src/core/ids.js';
import type { Database } from '../../src/store/database.js';
import {
  type AttemptUpdate,
  type Delivery,
  type DeliveryAttempt,
  DeliveryStore,
} from '../../src/store/delivery-store.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';

const delivery = (id: string, changes: Partial<Delivery> = {}): Delivery => ({
  id,
  eventId: `evt_${id}`,
  destinationId: 'app',
  status: 'pending',
  attempts: 0,
  cycleAttempts: 0,
  nextAttemptAt: null,
  lastStatus: null,
  lastError: null,
  failingNotified: false,
  manual: false,
  createdAt: 1,
  updatedAt: 1,
  succeededAt: null,
  ...changes,
});

const update = (id: string, changes: Partial<AttemptUpdate> = {}): AttemptUpdate => ({
  id,
  status: null,
  attempts: 1,
  cycleAttempts: 1,
  nextAttemptAt: null,
  lastStatus: null,
  lastError: null,
  failingNotified: null,
  manual: false,
  updatedAt: 1000,
  succeededAt: null,
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
          delivery('b', { failingNotified: true, succeededAt: 5, manual: true }),
          delivery('c', { lastError: 'old', nextAttemptAt: 7 }),
        ]),
      );
      await database.transaction((tx) =>
        store.recordAttempts(tx, [
          update('a', { status: 'succeeded', succeededAt: 1000, lastStatus: 200 }),
          update('b', { attempts: 3, cycleAttempts: 2, nextAttemptAt: 2000, lastError: 'HTTP 500' }),
          update('c', { status: 'failed', failingNotified: true, lastStatus: 410, lastError: 'gone' }),
        ]),
      );
      expect(await store.get('a')).toMatchObject({
        status: 'succeeded',
        succeededAt: 1000,
        lastStatus: 200,
        attempts: 1,
        updatedAt: 1000,
      });
      expect(await store.get('b')).toMatchObject({
        status: 'pending',
        attempts: 3,
        cycleAttempts: 2,
        nextAttemptAt: 2000,
        lastError: 'HTTP 500',
        failingNotified: true,
        succeededAt: 5,
        manual: false,
      });
      expect(await store.get('c')).toMatchObject({
        status: 'failed',
        failingNotified: true,
        nextAttemptAt: null,
        lastStatus: 410,
        lastError: 'gone',
      });
    });

    it('counts attempts per hour by outcome from their ids, each at its own hour', async () => {
      const H = 3_600_000;
      const at = (hour: number, minute: number) => 100 * H + hour * H + minute * 60_000;
      const made: [number, DeliveryAttempt['outcome']][] = [
        [at(0, 0), 'succeeded'],
        [at(0, 59), 'failed'],
        [at(1, 0), 'failed'],
        [at(1, 30), 'failed'],
        [at(1, 59), 'succeeded'],
        [at(3, 10), 'succeeded'],
        [at(4, 0), 'failed'], // at the end of the range: not counted
      ];
      await database.transaction((tx) =>
        store.addAttempts(
          tx,
          made.map(([time, outcome], i) => ({
            id: idAt('att', time, i),
            deliveryId: `dlv_${i}`,
            attempt: 1,
            trigger: 'scheduled',
            url: 'https://app.example.com/hooks',
            startedAt: time,
            durationMs: 5,
            statusCode: outcome === 'failed' ? 503 : 200,
            responseHeaders: null,
            responseBody: null,
            errorCode: null,
            errorMessage: null,
            outcome,
          })),
        ),
      );
      expect(await store.attemptCountsByTime(at(0, 0), at(4, 0), H)).toEqual([
        { succeeded: 1, failed: 1 },
        { succeeded: 1, failed: 2 },
        { succeeded: 0, failed: 0 },
        { succeeded: 1, failed: 0 },
      ]);
    });

    it('applies a batch naming a delivery twice in order, the last one winning', async () => {
      await database.transaction((tx) => store.insertMany(tx, [delivery('a')]));
      await database.transaction((tx) =>
        store.recordAttempts(tx, [
          update('a', { nextAttemptAt: 10, lastError: 'first' }),
          update('a', { attempts: 2, status: 'succeeded', succeededAt: 20 }),
        ]),
      );
      expect(await store.get('a')).toMatchObject({
        status: 'succeeded',
        attempts: 2,
        nextAttemptAt: null,
        lastError: null,
        succeededAt: 20,
      });
    });
  });
}
