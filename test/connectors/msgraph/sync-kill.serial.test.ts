import { afterEach, describe, expect, it } from 'vitest';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import { openSyncStores } from '../../../src/store/sync/index.js';
import { allDialects, migratedDatabase } from '../../helpers/databases.js';
import { until } from '../../helpers/fixture-process.js';
import { kill, type SyncProcess, seeded, startSyncProcess } from '../../helpers/kill-loop.js';
import { openTestVault, tempDataDir } from '../../helpers/vault.js';
import { storedRecords } from '../../sync/helpers.js';
import { graphConnection } from './connection.js';
import { type Json, startFake } from './helpers.js';

/**
 * The acceptance run for mailbox sync: 20,000 messages in 3 folders, synced by a process that
 * is SIGKILLed mid-round (three times during the first sync, three times during incremental runs while
 * mail arrives, changes, moves and goes away), through Graph's throttling (429s with fractional
 * Retry-After, injected again and again) and sync states expiring in the middle of rounds (410
 * SyncStateNotFound). Once the changes stop, a run of each folder started after the last change leaves
 * the store equal to the fake's folders: the same ids, subjects and read flags.
 *
 * The throttling is sized against the HTTP client's 3 attempts: short bursts (2 × 429) the client rides
 * out itself, long ones (5 × 429) that outlast it, so the sync run waits the Retry-After out and reads the
 * page again from its checkpoint (the run's report counts the waits; the test requires some).
 *
 * MSGRAPH_KILL_MESSAGES sizes the mailbox (20,000 by hand, the acceptance size; CI runs it smaller, see
 * .ci/run); pages scale with it, so a run has about as many pages, and as many kill moments, at any size.
 */
const ADELE = 'adele@contoso.test';
const MESSAGES = Number(process.env.MSGRAPH_KILL_MESSAGES ?? 20_000);
const FOLDERS = {
  inbox: Math.round(MESSAGES * 0.5),
  archive: Math.round(MESSAGES * 0.3),
  sentitems: Math.round(MESSAGES * 0.2),
} as const;
const NAMES = Object.keys(FOLDERS) as (keyof typeof FOLDERS)[];
const PAGE_SIZE = Math.max(10, Math.round(MESSAGES / 80));
const LEASE_MS = 3000;
/** The HTTP client's attempts per call (its default): a burst longer than this reaches the sync run. */
const CLIENT_ATTEMPTS = 3;
const SHORT_BURST = CLIENT_ATTEMPTS - 1;
const LONG_BURST = CLIENT_ATTEMPTS + 2;
const FIXTURE = new URL('../../fixtures/msgraph-sync-process.ts', import.meta.url);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const processes: SyncProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const { child } of processes.splice(0)) await kill(child);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

for (const { dialect, available } of allDialects) {
  // Run by hand (PATCHBAY_ACCEPTANCE=1) until it passes on a quiet machine: at 3,000 messages the first sync
  // finished before its kills there (issue 18's closing note).
  describe.skipIf(!available || !process.env.PATCHBAY_ACCEPTANCE)(
    `Graph mailbox sync of ${MESSAGES} messages killed and throttled, on ${dialect.name}`,
    () => {
      it('ends equal to the fake after 6 SIGKILLs, 429s and 410s', { timeout: 600_000 }, async () => {
        const random = seeded(18);
        const fake: RunningMsGraphFake = await startFake({ https: false, inboxSize: 0 });
        cleanups.push(() => fake.close());
        const control = fake.graph.control;
        for (const folder of NAMES) control.deliver(ADELE, { folder, count: FOLDERS[folder] });
        const { database, testDb, cleanup } = await migratedDatabase(dialect);
        cleanups.push(cleanup);
        const vault = await openTestVault(database);
        await vault.connections.create(graphConnection(fake));
        const stores = openSyncStores(database);

        const throttle = (times: number) =>
          fetch(`${fake.url}/_fake/throttle`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ path: '/v1.0/users/', times, retryAfter: 0.35 }),
          });
        const expire = (folder: string) => control.expireDelta({ user: ADELE, folder });
        let made = 0;
        let moved = 0;
        let removed = 0;
        const change = () => {
          const roll = random();
          const folder = NAMES[Math.floor(random() * NAMES.length)]!;
          const messages = control.snapshot(ADELE, folder) as Json[];
          const pick = messages[Math.floor(random() * messages.length)];
          if (roll < 0.3 || !pick) {
            control.deliver(ADELE, { folder, message: { subject: `Made ${++made}` } });
          } else if (roll < 0.7) {
            control.change(
              pick.id,
              random() < 0.5 ? { subject: `Changed ${++made}` } : { isRead: !pick.isRead },
            );
          } else if (roll < 0.85) {
            control.move(pick.id, NAMES.filter((n) => n !== folder)[Math.floor(random() * 2)]!);
            moved++;
          } else {
            control.remove(pick.id);
            removed++;
          }
        };

        let spawned = 0;
        const start = () =>
          startSyncProcess(
            FIXTURE,
            [
              JSON.stringify({
                databaseUrl: testDb.url,
                key: vault.key,
                dataDir: tempDataDir(),
                owner: `child-${++spawned}`,
                leaseMs: LEASE_MS,
                mailbox: ADELE,
                folders: NAMES,
                pageSize: PAGE_SIZE,
              }),
            ],
            processes,
          );
        const total = async () => {
          let n = 0;
          for (const folder of NAMES) n += await stores.records.count(folder, {});
          return n;
        };
        const waitFor = (what: string, check: () => Promise<boolean> | boolean) =>
          until(what, check, 240_000);
        const started = Date.now();
        const phase: Record<string, number> = {};
        const mark = (name: string) => {
          phase[name] = Math.round((Date.now() - started) / 1000);
        };

        // The first sync: killed between commits, throttled, one folder's round expiring mid-way.
        for (let i = 0; i < 3; i++) {
          const before = await total();
          const { child } = start();
          await throttle(i === 0 ? LONG_BURST : SHORT_BURST);
          await waitFor('pages committed', async () => (await total()) > before + 2 * PAGE_SIZE);
          if (i === 1) expect(expire('inbox') + expire('archive')).toBeGreaterThan(0);
          await sleep(200 + random() * 600);
          await kill(child);
          for (let j = 0; j < 20; j++) change();
        }
        expect(await total()).toBeLessThan(MESSAGES);
        mark('first sync');

        // Incremental runs while the mailbox changes, throttled and expired now and then, killed at random.
        let changing = true;
        const changer = (async () => {
          let n = 0;
          while (changing) {
            change();
            if (++n % 40 === 0) await throttle(n % 120 === 0 ? LONG_BURST : SHORT_BURST);
            if (n % 150 === 0) expire(NAMES[Math.floor(random() * NAMES.length)]!);
            await sleep(10 + random() * 30);
          }
        })();
        for (let i = 0; i < 3; i++) {
          const { child, runs } = start();
          await waitFor('a run ended', () => runs().some((r) => r.status !== 'busy'));
          await sleep(random() * 2000);
          await kill(child);
        }
        changing = false;
        await changer;
        const lastChange = Date.now();
        mark('incremental');

        // The changes have stopped: a run of each folder started after them brings the store level.
        const { child, runs } = start();
        await waitFor('a complete run of each folder after the last change', () =>
          NAMES.every((folder) =>
            runs().some((r) => r.sync === folder && r.status === 'succeeded' && r.startedAt > lastChange),
          ),
        );
        await kill(child);
        const allRuns = processes.flatMap((p) => p.runs());
        const failed = allRuns.filter((r) => r.status === 'failed');
        expect(failed.map((r) => `${r.sync}: ${r.error}`)).toEqual([]);

        let messages = 0;
        for (const folder of NAMES) {
          const stored = (await storedRecords(stores, folder)) as Map<string, Json>;
          const truth = control.snapshot(ADELE, folder) as Json[];
          expect([...stored.keys()].sort()).toEqual(truth.map((m) => m.id).sort());
          for (const m of truth) {
            expect(stored.get(m.id)).toMatchObject({ subject: m.subject, isRead: m.isRead });
          }
          messages += truth.length;
        }
        const stats = ((await (await fetch(`${fake.url}/_fake/stats`)).json()) as Json).counters;
        const throttled = stats['status:429'] ?? 0;
        const expired = stats['graph:410:SyncStateNotFound'] ?? 0;
        const succeeded = allRuns.filter((r) => r.status === 'succeeded').length;
        // The long bursts reached the runs, which waited them out (their reports count the waits).
        let runWaits = 0;
        for (const folder of NAMES) {
          for (const run of await stores.runs.list(folder, { limit: 10_000 })) {
            runWaits += (run.report as { throttled?: { waits: number } } | null)?.throttled?.waits ?? 0;
          }
        }
        expect(runWaits).toBeGreaterThan(0);
        expect(expired).toBeGreaterThan(0);
        expect(throttled).toBeGreaterThan(0);
        console.log(
          `${dialect.name}: ${spawned} processes, 6 killed; ${made} made or changed, ${moved} moved, ${removed} removed; ` +
            `${throttled} × 429 (${runWaits} waited out by a run), ${expired} × 410 answered; ${succeeded} runs succeeded; store = fake (${messages} messages) in ${Math.round((Date.now() - started) / 1000)} s (phases ended at ${JSON.stringify(phase)} s)`,
        );
      });
    },
  );
}
