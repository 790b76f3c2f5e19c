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
 * The issue's acceptance run for mailbox sync: 20,000 messages in 3 folders, synced by a process that
 * is SIGKILLed mid-round (three times during the first sync, three times during incremental runs while
 * mail arrives, changes, moves and goes away), through Graph's throttling (429s with fractional
 * Retry-After, injected again and again) and sync states expiring in the middle of rounds (410
 * SyncStateNotFound). Once the changes stop, a run of each folder started after the last change leaves
 * the store equal to the fake's folders: the same ids, subjects and read flags.
 *
 * The throttling is sized against the HTTP client's 3 attempts: short bursts (2 × 429) the client rides
 * out itself, long ones (5 × 429) that outlast it, so the sync run waits the Retry-After out and reads the
 * page again from its checkpoint (the run's report counts the waits; the test requires some). A burst is
 * injected only once the last one is spent (the fake's fault list): bursts on a timer can outpace what the
 * runs get through on a slow fake and pile up past the runs' designed bound (10 waits without a commit,
 * decision 0087), which would be the test's doing, not the product's.
 *
 * The kills follow progress, not the clock, so they land mid-sync on a fast machine as on a loaded one:
 * the first sync is killed once 10 %, 30 % and 65 % of the mailbox is stored; an incremental run is killed
 * while the fake holds one of its delta reads for 3 s, once the database shows that process's own run
 * under way (a `running` row a killed process left behind does not count).
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
/** Stored shares of the mailbox at which the first sync's three processes are killed. */
const FIRST_SYNC_KILLS = [0.1, 0.3, 0.65];
/** How long the fake holds the delta read an incremental run is killed in, in ms. */
const HOLD_MS = 3000;
const FIXTURE = new URL('../../fixtures/msgraph-sync-process.ts', import.meta.url);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const processes: SyncProcess[] = [];
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const { child } of processes.splice(0)) await kill(child);
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(
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

        const post = (path: string, body: unknown) =>
          fetch(`${fake.url}${path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(body),
          });
        const faultsLeft = async () =>
          ((await (await fetch(`${fake.url}/_fake/faults`)).json()) as { rules: Json[] }).rules;
        let bursts = 0;
        /** A burst of 429s, unless the last one is not spent yet. */
        const throttle = async (times: number) => {
          if ((await faultsLeft()).some((rule) => rule.status === 429)) return;
          bursts++;
          await post('/_fake/throttle', { path: '/v1.0/users/', times, retryAfter: 0.35 });
        };
        const HOLD_PATH = '/\\/messages\\/delta/';
        /** The fake holds the next delta read HOLD_MS before answering it. */
        const hold = () => post('/_fake/faults', { path: HOLD_PATH, delayMs: HOLD_MS, times: 1 });
        const held = async () => !(await faultsLeft()).some((rule) => rule.path === HOLD_PATH);
        /**
         * SIGKILLs the process, then frees the mailbox slots its calls in flight held: the limiter lets such a
         * slot go once its lease ends (2 min, its holder may have died), and six kills within a minute would
         * leave the next processes waiting minutes for the 4 slots. The test ages them instead of waiting;
         * only one process runs at a time, so every slot left is the dead one's.
         */
        const leaked: number[] = [];
        const killAndFreeSlots = async (child: SyncProcess['child']) => {
          await kill(child);
          const freed = await database.db.deleteFrom('rate_limit_leases').executeTakeFirst();
          leaked.push(Number(freed.numDeletedRows));
        };
        /** The ids of the runs the database shows under way (killed processes leave theirs `running`). */
        const runningRuns = async () => {
          const ids: string[] = [];
          for (const folder of NAMES) {
            for (const run of await stores.runs.list(folder, { limit: 100 })) {
              if (run.status === 'running') ids.push(run.id);
            }
          }
          return ids;
        };
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

        // The first sync: killed at 10 %, 30 % and 65 % stored, throttled, the Inbox's round expiring mid-way.
        const killedAt: number[] = [];
        for (const [i, share] of FIRST_SYNC_KILLS.entries()) {
          const { child } = start();
          await throttle(i === 0 ? LONG_BURST : SHORT_BURST);
          await waitFor(`${share * 100} % stored`, async () => (await total()) >= MESSAGES * share);
          if (i === 1) expect(expire('inbox') + expire('archive')).toBeGreaterThan(0);
          await killAndFreeSlots(child);
          killedAt.push(await total());
          mark(`kill ${i + 1}`);
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
          const stale = new Set(await runningRuns());
          const { child, runs } = start();
          await waitFor('a run ended', () => runs().some((r) => r.status !== 'busy'));
          await hold();
          await waitFor(
            'a run of this process under way, its delta read held',
            async () => (await held()) && (await runningRuns()).some((id) => !stale.has(id)),
          );
          await killAndFreeSlots(child);
          mark(`kill ${i + 4}`);
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
        // Each kill landed in a run: the run it cut short was found `running` by the next one and marked.
        let runWaits = 0;
        let interrupted = 0;
        for (const folder of NAMES) {
          for (const run of await stores.runs.list(folder, { limit: 10_000 })) {
            runWaits += (run.report as { throttled?: { waits: number } } | null)?.throttled?.waits ?? 0;
            if (run.status === 'interrupted') interrupted++;
          }
        }
        expect(runWaits).toBeGreaterThan(0);
        expect(interrupted).toBeGreaterThanOrEqual(6);
        expect(expired).toBeGreaterThan(0);
        expect(throttled).toBeGreaterThan(0);
        console.log(
          `${dialect.name}: ${spawned} processes, 6 killed; ${made} made or changed, ${moved} moved, ${removed} removed; ` +
            `first sync killed at ${killedAt.join(', ')} stored, ${interrupted} runs interrupted, slots freed ${leaked.join('+')}; ${bursts} bursts, ` +
            `${throttled} × 429 (${runWaits} waited out by a run), ${expired} × 410 answered; ${succeeded} runs succeeded; store = fake (${messages} messages) in ${Math.round((Date.now() - started) / 1000)} s (phases ended at ${JSON.stringify(phase)} s)`,
        );
      });
    },
  );
}
