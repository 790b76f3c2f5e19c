import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import type { Database } from '../../../src/store/database.js';
import { allDialects, migratedDatabase } from '../../helpers/databases.js';
import { openTestVault, type TestVault } from '../../helpers/vault.js';
import { graphConnection } from './connection.js';
import { startFake } from './helpers.js';

const FIXTURE = new URL('../../fixtures/msgraph-send-worker.ts', import.meta.url).pathname;

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(dialect.name, () => {
    let database: Database;
    let url: string;
    let cleanup: () => Promise<void>;
    let vault: TestVault;
    let fake: RunningMsGraphFake;

    beforeAll(async () => {
      const migrated = await migratedDatabase(dialect);
      ({ database, cleanup } = migrated);
      url = migrated.testDb.url;
      vault = await openTestVault(database);
      fake = await startFake({ https: false });
      await vault.connections.create(graphConnection(fake));
    });
    afterAll(async () => {
      await fake?.close();
      await cleanup?.();
    });

    function worker(key: string, settleMs: number): { child: ChildProcess; lines: () => string[] } {
      const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
        env: {
          ...process.env,
          SEND_DB_URL: url,
          PATCHBAY_ENCRYPTION_KEY: vault.key,
          SEND_CONNECTION: 'mail',
          SEND_MAILBOX: 'adele@contoso.test',
          SEND_KEY: key,
          SEND_CLAIM_MS: '300',
          SEND_SETTLE_MS: String(settleMs),
        },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout!.on('data', (d) => (output += d));
      return { child, lines: () => output.split('\n').filter(Boolean) };
    }

    async function until(what: string, test: () => boolean, timeoutMs = 30_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!test()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }

    const copies = (mailbox: string, folder: string) =>
      fake.graph.control.snapshot(mailbox, folder).filter((m) => m.subject === 'Exactly once').length;

    async function outcomeOf(run: ReturnType<typeof worker>): Promise<Record<string, unknown>> {
      const [code] = await once(run.child, 'exit');
      expect(code).toBe(0);
      return JSON.parse(run.lines().at(-1)!);
    }

    describe(`an idempotent sendMail across a SIGKILL, on ${dialect.name}`, { timeout: 120_000 }, () => {
      it('is sent once when the process dies after Graph accepted the send and before it heard so', async () => {
        fake.faults.add([{ path: '/v1.0/users/adele@contoso.test/sendMail', holdAnswerMs: 120_000 }]);
        const first = worker('crash-after-send', 1_000);
        await until('the send to reach the fake', () => copies('adele@contoso.test', 'sentitems') === 1);
        first.child.kill('SIGKILL');
        await once(first.child, 'exit');
        await new Promise((r) => setTimeout(r, 400)); // the dead process's claim on the key lapses
        const second = worker('crash-after-send', 1_000);
        expect(await outcomeOf(second)).toMatchObject({ status: 'already-sent' });
        expect(copies('adele@contoso.test', 'sentitems')).toBe(1);
        expect(copies('alex@contoso.test', 'inbox')).toBe(1);
      });

      it('is sent once when the process dies with its send still on the way, Graph acting on it or not', async () => {
        for (const [mailbox, folder] of [
          ['adele@contoso.test', 'sentitems'],
          ['alex@contoso.test', 'inbox'],
        ] as const) {
          for (const m of fake.graph.control.snapshot(mailbox, folder))
            fake.graph.control.remove(m.id as string);
        }
        // The request reaches the fake, which holds it 2 s before acting: the worker is dead by then.
        fake.faults.add([{ path: '/v1.0/users/adele@contoso.test/sendMail', delayMs: 2_000 }]);
        const first = worker('crash-in-flight', 6_000);
        await until('the worker to start its send', () => first.lines().includes('sending'));
        await new Promise((r) => setTimeout(r, 300));
        first.child.kill('SIGKILL');
        await once(first.child, 'exit');
        expect(copies('adele@contoso.test', 'sentitems')).toBe(0);
        await new Promise((r) => setTimeout(r, 400));
        // Whether the dead request took effect or not (the fake drops one whose client went away during the
        // delay), the retry keeps looking through the settle time before it sends: one copy either way.
        const second = worker('crash-in-flight', 6_000);
        expect(['sent', 'already-sent']).toContain((await outcomeOf(second)).status);
        await new Promise((r) => setTimeout(r, 2_500));
        expect(copies('adele@contoso.test', 'sentitems')).toBe(1);
        expect(copies('alex@contoso.test', 'inbox')).toBe(1);
      });
    });
  });
}
