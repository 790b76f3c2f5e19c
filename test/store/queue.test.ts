import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, isPatchbayError } from '../../src/core/errors.js';
import type { Database } from '../../src/store/database.js';
import { failureOutcome, JobQueue, QUEUE_CHANNEL } from '../../src/store/queue.js';
import { QueueWorker } from '../../src/store/queue-worker.js';
import { FakeClock } from '../../src/testing/fake-clock.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`job queue on ${dialect.name}`, () => {
    let database: Database;
    let cleanup: () => Promise<void>;
    let clock: FakeClock;
    let queue: JobQueue;

    beforeAll(async () => {
      ({ database, cleanup } = await migratedDatabase(dialect));
    });
    afterAll(async () => cleanup?.());
    beforeEach(async () => {
      await database.db.deleteFrom('jobs').execute();
      clock = new FakeClock();
      queue = new JobQueue(database, clock);
    });

    it('hands out due jobs in order and holds them under a lease', async () => {
      await queue.add([
        { queue: 'q', payload: { n: 1 } },
        { queue: 'q', payload: { n: 2 } },
        { queue: 'q', payload: { n: 3 }, runAt: clock.now() + 60_000 },
        { queue: 'other', payload: { n: 4 } },
      ]);
      const first = await queue.claim<{ n: number }>('q', { limit: 10, leaseMs: 1000 });
      expect(first.map((j) => j.payload.n)).toEqual([1, 2]);
      expect(first.every((j) => j.attempts === 1)).toBe(true);
      expect(await queue.claim('q', { limit: 10 })).toEqual([]);
    });

    it('enqueues inside the caller transaction: a rolled-back transaction leaves no job', async () => {
      await expect(
        database.transaction(async (tx) => {
          await queue.enqueue(tx, [{ queue: 'q', payload: 'x' }]);
          throw new Error('caller failed');
        }),
      ).rejects.toThrow('caller failed');
      expect(await queue.claim('q', { limit: 10 })).toEqual([]);
      await database.transaction((tx) => queue.enqueue(tx, [{ queue: 'q', payload: 'y' }]));
      expect((await queue.claim('q')).map((j) => j.payload)).toEqual(['y']);
    });

    it('enqueueing an existing id is a no-op', async () => {
      await queue.add([{ queue: 'q', payload: 1, id: 'job_same' }]);
      await queue.add([{ queue: 'q', payload: 2, id: 'job_same' }]);
      expect((await queue.claim('q', { limit: 10 })).map((j) => j.payload)).toEqual([1]);
    });

    it('gives a job to another worker once its lease expires, and the old lease can no longer complete it', async () => {
      await queue.add([{ queue: 'q', payload: 'a' }]);
      const [held] = await queue.claim('q', { leaseMs: 1000 });
      expect(held).toBeDefined();
      await clock.advance(999);
      expect(await queue.claim('q')).toEqual([]);
      await clock.advance(2);
      const [again] = await queue.claim('q', { leaseMs: 1000 });
      expect(again?.id).toBe(held!.id);
      expect(again?.attempts).toBe(2);
      expect(await queue.complete([held!])).toBe(0);
      expect(await queue.complete([again!])).toBe(1);
      expect(await queue.stats()).toEqual([]);
    });

    it('extends a lease so a long job is not handed out twice', async () => {
      await queue.add([{ queue: 'q', payload: 'a' }]);
      const jobs = await queue.claim('q', { leaseMs: 1000 });
      await clock.advance(800);
      expect(await queue.extend(jobs, 1000)).toEqual([]);
      await clock.advance(800);
      expect(await queue.claim('q')).toEqual([]);
      await clock.advance(300);
      const lostNow = await queue.claim('q', { leaseMs: 1000 });
      expect(lostNow).toHaveLength(1);
      expect(await queue.extend(jobs, 1000)).toEqual([jobs[0]!.id]);
    });

    it('schedules a retry at runAt and dead-letters after maxAttempts; requeue brings it back', async () => {
      await queue.add([{ queue: 'q', payload: 'p', maxAttempts: 2 }]);
      const [a1] = await queue.claim('q');
      expect(await queue.fail(a1!, { error: 'boom 1', runAt: clock.now() + 5000 })).toBe('retry');
      expect(await queue.claim('q')).toEqual([]);
      await clock.advance(5000);
      const [a2] = await queue.claim('q');
      expect(a2?.lastError).toBe('boom 1');
      expect(await queue.fail(a2!, { error: 'boom 2' })).toBe('dead');
      await clock.advance(60_000);
      expect(await queue.claim('q')).toEqual([]);
      const dead = await queue.listDead('q');
      expect(dead.map((d) => [d.id, d.lastError, d.attempts])).toEqual([[a1!.id, 'boom 2', 2]]);
      expect(await queue.stats()).toEqual([{ queue: 'q', ready: 0, claimed: 0, dead: 1 }]);
      expect(await queue.requeueDead('q')).toBe(1);
      const [back] = await queue.claim('q');
      expect(back?.attempts).toBe(1);
    });

    it('dead-letters at once on a permanent failure', async () => {
      await queue.add([{ queue: 'q', payload: 'p', maxAttempts: 10 }]);
      const [job] = await queue.claim('q');
      expect(await queue.fail(job!, { error: 'bad input', dead: true })).toBe('dead');
      expect((await queue.listDead('q')).length).toBe(1);
    });

    it('refuses to record a failure for a lease that was lost', async () => {
      await queue.add([{ queue: 'q', payload: 'p' }]);
      const [job] = await queue.claim('q', { leaseMs: 100 });
      await clock.advance(200);
      await queue.claim('q', { leaseMs: 100 });
      const err = await queue.fail(job!, { error: 'late' }).catch((e: unknown) => e);
      expect(isPatchbayError(err, ErrorCode.LEASE_LOST)).toBe(true);
    });

    it('dead-letters a job whose lease expired on every attempt (it keeps killing its worker)', async () => {
      await queue.add([{ queue: 'q', payload: 'poison', maxAttempts: 2 }]);
      for (let i = 0; i < 2; i++) {
        expect(await queue.claim('q', { leaseMs: 100 })).toHaveLength(1);
        await clock.advance(101);
      }
      expect(await queue.claim('q', { leaseMs: 100 })).toEqual([]);
      expect((await queue.listDead('q'))[0]?.lastError).toMatch(/lease expired/);
    });

    it('a deferred job (it did no work) comes back at runAt without spending its attempts', async () => {
      await queue.add([{ queue: 'q', payload: 'waits', maxAttempts: 2 }]);
      for (let i = 0; i < 5; i++) {
        const [job] = await queue.claim('q', { leaseMs: 1000 });
        expect(job?.attempts).toBe(1);
        expect(await queue.fail(job!, { error: 'not yet', runAt: clock.now() + 10, uncounted: true })).toBe(
          'retry',
        );
        await clock.advance(10);
      }
      const [job] = await queue.claim('q');
      expect(await queue.fail(job!, { error: 'failed for real' })).toBe('retry');
      const [again] = await queue.claim('q');
      expect(await queue.fail(again!, { error: 'failed again' })).toBe('dead');
    });

    it('settles completions and failures in one go, as failureOutcome predicts, leaving a lost lease alone', async () => {
      await queue.add([
        { queue: 'q', payload: 'last try', maxAttempts: 1 },
        { queue: 'q', payload: 'done' },
        { queue: 'q', payload: 'given back' },
      ]);
      const [lastTry, done, givenBack] = await queue.claim('q', { limit: 3, leaseMs: 1000 });
      await queue.release([givenBack!]); // its lease is no longer ours
      const failures = [
        { job: lastTry!, options: { error: 'boom' } },
        { job: givenBack!, options: { error: 'too late' } },
      ];
      expect(failures.map((f) => failureOutcome(f.job, f.options))).toEqual(['dead', 'retry']);
      await queue.settle([done!], failures);
      expect(await queue.stats()).toEqual([{ queue: 'q', ready: 1, claimed: 0, dead: 1 }]);
      expect((await queue.listDead('q')).map((d) => [d.id, d.lastError])).toEqual([[lastTry!.id, 'boom']]);
      const [again] = await queue.claim('q');
      expect(again).toMatchObject({ id: givenBack!.id, attempts: 1 });
    });

    it('release gives a job back at once without counting the attempt', async () => {
      await queue.add([{ queue: 'q', payload: 'p' }]);
      const jobs = await queue.claim('q');
      await queue.release(jobs);
      const [again] = await queue.claim('q');
      expect(again?.attempts).toBe(1);
    });

    it('two claimers racing never hold the same job', async () => {
      const n = 400;
      await queue.add(Array.from({ length: n }, (_, i) => ({ queue: 'q', payload: i })));
      const seen: string[] = [];
      const claimer = async () => {
        for (;;) {
          const jobs = await queue.claim('q', { limit: 7, leaseMs: 60_000 });
          if (jobs.length === 0) return;
          seen.push(...jobs.map((j) => j.id));
        }
      };
      await Promise.all([claimer(), claimer(), claimer(), claimer()]);
      expect(seen).toHaveLength(n);
      expect(new Set(seen).size).toBe(n);
    });

    it('a worker runs each job once, retries failures with backoff, and shuts down cleanly', async () => {
      const realQueue = new JobQueue(database);
      const ran: number[] = [];
      let failOnce = true;
      const worker = new QueueWorker<number>(database, realQueue, {
        queue: 'w',
        concurrency: 4,
        pollIntervalMs: 50,
        retryDelayMs: () => 0,
        handler: async (job) => {
          if (job.payload === 3 && failOnce) {
            failOnce = false;
            throw new Error('transient');
          }
          ran.push(job.payload);
          return undefined;
        },
      });
      await worker.start();
      await realQueue.add(Array.from({ length: 20 }, (_, i) => ({ queue: 'w', payload: i })));
      await waitFor(async () => ran.length === 20);
      await worker.stop();
      expect([...ran].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(await realQueue.stats()).toEqual([]);
    });

    it('records failures and deferrals with other settled jobs, not in a commit of their own each', async () => {
      let transactions = 0;
      const counting: Database = {
        ...database,
        transaction: (fn, options) => {
          transactions++;
          return database.transaction(fn, options);
        },
      };
      let failures = 0;
      let ownCommits = 0;
      class CountingQueue extends JobQueue {
        override async fail(...args: Parameters<JobQueue['fail']>) {
          failures++;
          if (args[2] === undefined) ownCommits++;
          return super.fail(...args);
        }
      }
      const countingQueue = new CountingQueue(counting);
      const tried = new Set<number>();
      const worker = new QueueWorker<number>(counting, countingQueue, {
        queue: 'f',
        concurrency: 20,
        pollIntervalMs: 20,
        retryDelayMs: () => 0,
        // Each job fails once (half throw, half are deferred), then succeeds.
        handler: async (job) => {
          if (tried.has(job.payload)) return undefined;
          tried.add(job.payload);
          if (job.payload % 2 === 0) throw new Error('transient');
          return { retryAt: Date.now(), error: 'waiting', deferred: true };
        },
      });
      await countingQueue.add(Array.from({ length: 200 }, (_, i) => ({ queue: 'f', payload: i })));
      await worker.start();
      await waitFor(async () => (await countingQueue.stats()).length === 0);
      await worker.stop();
      expect(failures).toBe(200);
      expect(ownCommits).toBe(0);
      expect(transactions).toBeLessThan(failures);
    });

    it('stop() waits for completions already being written, so no finished job stays claimed', async () => {
      // With most slots busy the worker records a finished job a few ms later, on a timer. Hold that write
      // open and stop the worker meanwhile: stop() must not return before it commits.
      let writing!: () => void;
      const started = new Promise<void>((r) => (writing = r));
      let letFinish!: () => void;
      const gate = new Promise<void>((r) => (letFinish = r));
      class SlowCompletions extends JobQueue {
        override async settle(...args: Parameters<JobQueue['settle']>) {
          writing();
          await gate;
          return super.settle(...args);
        }
      }
      const slowQueue = new SlowCompletions(database);
      const worker = new QueueWorker<number>(database, slowQueue, {
        queue: 's',
        concurrency: 4,
        pollIntervalMs: 50,
        // Jobs 1–3 run until the worker gives up on them; job 4 finishes at once.
        handler: (job, { signal }) =>
          job.payload === 4
            ? Promise.resolve(undefined)
            : new Promise((_, reject) =>
                signal.addEventListener('abort', () => reject(new Error('stopped'))),
              ),
      });
      await slowQueue.add([1, 2, 3, 4].map((payload) => ({ queue: 's', payload })));
      await worker.start();
      await started;
      const stopped = worker.stop(10).then(() => 'stopped');
      const first = await Promise.race([stopped, new Promise((r) => setTimeout(() => r('waiting'), 100))]);
      letFinish();
      await stopped;
      expect(first).toBe('waiting');
      // Job 4 is done; the three unfinished ones were given back.
      expect(await slowQueue.stats()).toEqual([{ queue: 's', ready: 3, claimed: 0, dead: 0 }]);
    });

    it('keeps working when a wake-up arrives while every slot is busy', async () => {
      const realQueue = new JobQueue(database);
      const done: number[] = [];
      let release!: () => void;
      const firstBlocked = new Promise<void>((r) => (release = r));
      const worker = new QueueWorker<number>(database, realQueue, {
        queue: 'busy',
        concurrency: 1,
        pollIntervalMs: 5000,
        handler: async (job) => {
          if (job.payload === 1) await firstBlocked;
          done.push(job.payload);
          return undefined;
        },
      });
      await worker.start();
      await realQueue.add([{ queue: 'busy', payload: 1 }]);
      await waitFor(async () => worker.inflightCount === 1);
      await realQueue.add([{ queue: 'busy', payload: 2 }]);
      await database.notify(QUEUE_CHANNEL, 'busy');
      await new Promise((r) => setTimeout(r, 50));
      release();
      await waitFor(async () => done.length === 2, 3000);
      await worker.stop();
      expect(done).toEqual([1, 2]);
    });

    it('stop() releases jobs still running after the grace period', async () => {
      const realQueue = new JobQueue(database);
      let started = 0;
      const worker = new QueueWorker(database, realQueue, {
        queue: 'slow',
        concurrency: 2,
        pollIntervalMs: 20,
        handler: (_job, { signal }) =>
          new Promise((_resolve, reject) => {
            started++;
            signal.addEventListener('abort', () => reject(new Error('aborted')));
          }),
      });
      await worker.start();
      await realQueue.add([
        { queue: 'slow', payload: 1 },
        { queue: 'slow', payload: 2 },
      ]);
      await waitFor(async () => started === 2);
      await worker.stop(50);
      const again = await realQueue.claim('slow', { limit: 5 });
      expect(again.map((j) => j.attempts)).toEqual([1, 1]);
    });
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
