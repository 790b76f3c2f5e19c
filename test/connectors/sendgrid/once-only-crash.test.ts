import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningSendGridFake, startSendGridFake } from '../../../src/connectors/sendgrid/fake/index.js';
import { dialects, migratedDatabase } from '../../helpers/databases.js';
import { spawnFixture, until } from '../../helpers/fixture-process.js';
import { openTestVault, tempDataDir } from '../../helpers/vault.js';

const FIXTURE = new URL('../../fixtures/sendgrid-sender-process.ts', import.meta.url);

const sender = (args: string[]) => spawnFixture(FIXTURE, args);

let fake: RunningSendGridFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

describe.each(dialects)('once-only send on $name, killed between the send and its answer', (dialect) => {
  it('sends one e-mail: the restarted sender finds it in Email Activity', async () => {
    const { database, testDb, cleanup } = await migratedDatabase(dialect);
    try {
      const dataDir = tempDataDir();
      const vault = await openTestVault(database, { dataDir });
      fake = await startSendGridFake({ activityDelayMs: 300 });
      await vault.connections.create({
        id: 'mail',
        provider: 'sendgrid',
        baseUrl: fake.url,
        auth: { scheme: 'bearer', token: 'SG.crash.test' },
      });
      // SendGrid takes the mail, then the answer never comes back before the sender dies.
      await fetch(`${fake.url}/_fake/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ path: '/v3/mail/send', holdAnswerMs: 60_000 }),
      });
      const messages = async () =>
        (
          (await (await fetch(`${fake!.url}/_fake/messages`)).json()) as {
            messages: { xMessageId: string }[];
          }
        ).messages;
      const args = [testDb.url, vault.key, dataDir, 'shipment-7781'];

      const first = sender(args);
      await until('SendGrid to accept the mail', async () => (await messages()).length === 1);
      first.child.kill('SIGKILL');
      await once(first.child, 'exit');
      expect(first.output()).toMatch(/^sending \d+\n$/);

      const second = sender(args);
      const [code] = await once(second.child, 'exit');
      expect(code).toBe(0);
      const result = JSON.parse(second.output().trim().split('\n').at(-1)!) as {
        outcome: string;
        messageId: string;
      };
      const sent = await messages();
      expect(sent).toHaveLength(1);
      expect(result).toMatchObject({ outcome: 'recovered', messageId: sent[0]!.xMessageId });

      // A third run (say, a duplicate job) answers from the ledger without a look-up or a send.
      const third = sender(args);
      await once(third.child, 'exit');
      expect(JSON.parse(third.output().trim().split('\n').at(-1)!)).toMatchObject({
        outcome: 'already-sent',
      });
      expect(await messages()).toHaveLength(1);
    } finally {
      await cleanup();
    }
    // Each sender process starts through tsx, which takes seconds on a loaded machine.
  }, 180_000);
});
