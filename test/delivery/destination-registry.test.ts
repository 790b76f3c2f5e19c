import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { destinationSchema } from '../../src/core/config/schema.js';
import type { Database } from '../../src/store/database.js';
import { DeliveryStore } from '../../src/store/delivery-store.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import {
  type Destination,
  DestinationRegistry,
  httpDestinationFromConfig,
} from '../../src/webhooks/delivery/destinations.js';
import { generateWebhookSecret } from '../../src/webhooks/sign/standard-webhooks.js';
import { dialects, migratedDatabase } from '../helpers/databases.js';

/** An API destination as another process stored it, at `url`. */
function stored(url: string): Destination {
  const config = destinationSchema.parse({ id: 'moving', url, secrets: [generateWebhookSecret()] });
  return { ...httpDestinationFromConfig(config, 15_000), origin: 'api' };
}

/** A loader whose reads the test answers one by one, in any order. */
function controlledLoader() {
  const reads: ((d: Destination | undefined) => void)[] = [];
  const load = () => new Promise<Destination | undefined>((resolve) => reads.push(resolve));
  return { reads, load };
}

describe('DestinationRegistry.forAttempt (API destinations changed by another process)', () => {
  let database: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ database, cleanup } = await migratedDatabase(dialects[0]!));
  });
  afterAll(() => cleanup());

  const urlOf = (d: Destination | undefined) => (d?.kind === 'http' ? d.url.href : d);

  it('does not let an attempt that saw a newer row share a read started for an older one', async () => {
    const { reads, load } = controlledLoader();
    const registry = new DestinationRegistry(new DeliveryStore(database), new FakeClock(0), load);
    const old = registry.forAttempt('moving', { origin: 'api', version: 1 });
    const fresh = registry.forAttempt('moving', { origin: 'api', version: 2 });
    expect(reads).toHaveLength(2);
    // The newer read answers first; the older one, slower, answers with the older definition.
    reads[1]!(stored('https://new.example/hooks'));
    expect(urlOf(await fresh)).toBe('https://new.example/hooks');
    reads[0]!(stored('https://old.example/hooks'));
    expect(urlOf(await old)).toBe('https://old.example/hooks');
    // The cache keeps the newer definition: an attempt on the current row neither reads nor goes back.
    expect(urlOf(await registry.forAttempt('moving', { origin: 'api', version: 2 }))).toBe(
      'https://new.example/hooks',
    );
    expect(reads).toHaveLength(2);
  });

  it('shares one read among the attempts that saw the same row', async () => {
    const { reads, load } = controlledLoader();
    const registry = new DestinationRegistry(new DeliveryStore(database), new FakeClock(0), load);
    const attempts = [1, 2, 3].map(() => registry.forAttempt('moving', { origin: 'api', version: 7 }));
    expect(reads).toHaveLength(1);
    reads[0]!(stored('https://one.example/hooks'));
    expect((await Promise.all(attempts)).map(urlOf)).toEqual(Array(3).fill('https://one.example/hooks'));
  });
});

describe('DestinationRegistry.revalidate (the copy of the destinations rows)', () => {
  let database: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ database, cleanup } = await migratedDatabase(dialects[0]!));
  });
  afterAll(() => cleanup());

  it('is fresh for a second, then reads; a write of its own during a read keeps the copy stale', async () => {
    const clock = new FakeClock(0);
    const registry = new DestinationRegistry(new DeliveryStore(database), clock);
    await registry.load();
    expect(registry.revalidate()).toBeUndefined();
    await clock.advance(1000);
    const reading = registry.revalidate();
    expect(reading).toBeDefined();
    // This process writes while the read is under way: that read may not have seen it.
    registry.invalidate();
    await reading;
    const again = registry.revalidate();
    expect(again).toBeDefined();
    await again;
    expect(registry.revalidate()).toBeUndefined();
  });

  it('does not make a transaction wait for a read outside it (on SQLite that read waits for the transaction)', async () => {
    const registry = new DestinationRegistry(new DeliveryStore(database), new FakeClock(0));
    let outside: Promise<void> | undefined;
    await database.transaction(async (tx) => {
      await tx.db.selectFrom('destinations').select('id').execute();
      // A read outside the transaction starts: it needs the connection the transaction holds.
      outside = registry.revalidate({ force: true });
      expect(registry.revalidate({ tx, force: true })).toBeUndefined();
    });
    await outside;
    expect(registry.revalidate()).toBeUndefined();
  });
});
