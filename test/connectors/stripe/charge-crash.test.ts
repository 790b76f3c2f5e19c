import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningStripeFake, startStripeFake } from '../../../src/connectors/stripe/fake/index.js';
import { dialects, migratedDatabase } from '../../helpers/databases.js';
import { spawnFixture, until } from '../../helpers/fixture-process.js';
import { openTestVault, tempDataDir } from '../../helpers/vault.js';

const FIXTURE = new URL('../../fixtures/stripe-charge-process.ts', import.meta.url);

const job = (args: string[]) => spawnFixture(FIXTURE, args);

let fake: RunningStripeFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe('a Stripe charge killed between the send and its answer', () => {
  it('charges once: the restarted job’s repeat under the same key gets the first answer', async () => {
    const { database, testDb, cleanup } = await migratedDatabase(dialects[0]!);
    try {
      const dataDir = tempDataDir();
      const vault = await openTestVault(database, { dataDir });
      fake = await startStripeFake();
      await vault.connections.create({
        id: 'pay',
        provider: 'stripe',
        baseUrl: fake.url,
        auth: { scheme: 'bearer', token: 'sk_test_crash0001' },
      });
      // Stripe charges the card, then the answer never reaches the job before it dies.
      await fetch(`${fake.url}/_fake/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ method: 'POST', path: '/v1/payment_intents', holdAnswerMs: 60_000 }),
      });
      const stats = async () =>
        (await (await fetch(`${fake!.url}/_fake/stats`)).json()) as {
          counters: Record<string, number>;
          paymentIntents: number;
          charges: { succeeded: number; capturedAmount: number };
        };
      const args = [testDb.url, vault.key, dataDir, '7781'];

      const first = job(args);
      await until('Stripe to charge the card', async () => (await stats()).charges.succeeded === 1);
      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      expect(first.output()).toMatch(/^charging \d+\n$/);

      const second = job(args);
      const [code] = await once(second.child, 'exit');
      expect(code, second.output()).toBe(0);
      const result = JSON.parse(second.output().trim().split('\n').at(-1)!) as { id: string; status: string };
      expect(result.status).toBe('succeeded');
      expect(await stats()).toMatchObject({
        paymentIntents: 1,
        charges: { succeeded: 1, capturedAmount: 4200 },
        counters: { 'idempotent-replays': 1 },
      });
    } finally {
      await cleanup();
    }
    // Each job process starts through tsx, which takes seconds on a loaded machine.
  }, 180_000);
});
