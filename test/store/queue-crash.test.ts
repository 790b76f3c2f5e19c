import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/database.js';
import { JobQueue } from '../../src/store/queue.js';
import { allDialects, migratedDatabase } from '../helpers/databases.js';

const FIXTURE = new URL('../fixtures/queue-worker-process.ts', import.meta.url).pathname;

function startWorker(url: string, name: string, ...flags: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', FIXTURE, url, name, ...flags], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

async function waitForLine(child: ChildProcess, prefix: string): Promise<string> {
  let buffer = '';
  for await (const chunk of child.stdout!) {
    buffer += String(chunk);
    const line = buffer.split('\n').find((l) => l.startsWith(prefix));
    if (line) return line;
  }
  throw new Error(`worker exited before printing "${prefix}"`);
}

for (const { dialect, available } of allDialects) {
  describe.skipIf(!available)(`job queue crash safety on ${dialect.name}`, () => {
    let database: Database;
    let url: string;
    let cleanup: () => Promise<void>;

    beforeAll(async () => {
      const made = await migratedDatabase(dialect);
      ({ database, cleanup } = made);
      url = made.testDb.url;
      await sql`create table crash_marks (job_id text not null, worker text not null, attempts integer not null)`.execute(
        database.db,
      );
    });
    afterAll(async () => cleanup?.());

    it('a worker SIGKILLed mid-job loses nothing: another worker completes each job exactly once', async () => {
      const queue = new JobQueue(database);
      const ids = await queue.add(Array.from({ length: 20 }, (_, i) => ({ queue: 'crash', payload: i })));

      const doomed = startWorker(url, 'doomed', '--hang', '--lease', '500');
      const claimedLine = await waitForLine(doomed, 'claimed ');
      const heldByDoomed = claimedLine.slice('claimed '.length).split(',');
      expect(heldByDoomed.length).toBeGreaterThan(0);
      doomed.kill('SIGKILL');
      await once(doomed, 'exit');

      const survivor = startWorker(url, 'survivor', '--lease', '500');
      await waitForLine(survivor, 'drained');
      await once(survivor, 'exit');

      const marks = await sql<{
        job_id: string;
        worker: string;
        attempts: number;
      }>`select * from crash_marks`.execute(database.db);
      expect(marks.rows.map((m) => m.job_id).sort()).toEqual([...ids].sort());
      expect(new Set(marks.rows.map((m) => m.worker))).toEqual(new Set(['survivor']));
      // The jobs the dead worker held were tried a second time, after its lease ran out.
      for (const mark of marks.rows) {
        expect(mark.attempts).toBe(heldByDoomed.includes(mark.job_id) ? 2 : 1);
      }
      expect(await queue.stats()).toEqual([]);
    });
  });
}
