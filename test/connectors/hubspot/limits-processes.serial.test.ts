import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { allDialects, migratedDatabase } from '../../helpers/databases.js';
import { spawnFixture, until } from '../../helpers/fixture-process.js';
import { openTestVault, tempDataDir } from '../../helpers/vault.js';

/**
 * The acceptance run: three Patchbay processes on one PostgreSQL database, one connection
 * `provider: hubspot`, against the fake — together they read 30,000 contacts (batch reads of 100, a
 * third each) and batch-upsert 5,000, all at once. 350 requests at the starter tier's 100 per rolling
 * 10 s cannot take less than 30 s; they must take at most 5 % more, with no 429 at the fake. The same
 * work on the professional tier (190 per 10 s) is paced by that tier instead.
 *
 * Reads go by batch, not by listing: one list cursor is one request at a time, so its pace is its
 * latency (about 70 ms a page on a loaded 2-core machine: at most ~14 a second, and each slot it
 * re-uses late stays late in the rolling window); the quota is what is measured here.
 */
const CONTACTS = 30_000;
const UPSERTS = 5_000;
// 100 reads and 17 upserts per process (the last upserts 1,600: 16).
const REQUESTS = CONTACTS / 100 + 17 + 17 + 16;
const postgres = allDialects[1]!;
const CLIENT = new URL('../../fixtures/hubspot-client-process.ts', import.meta.url);
const FAKE = new URL('../../fixtures/hubspot-fake-process.ts', import.meta.url);

interface ChildResult {
  first: number;
  last: number;
  records: { read: number; written: number };
  codes: Record<string, number>;
}

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function run(tier: 'starter' | 'professional') {
  const fake = await startFakeProcess({ tier, seed: { contacts: CONTACTS, associate: false } });
  cleanups.push(() => fake.close());
  const { database, testDb, cleanup } = await migratedDatabase(postgres.dialect);
  cleanups.push(cleanup);
  const vault = await openTestVault(database);
  for (const [id, token] of [
    ['crm', 'pat-na1-crm'],
    ['warm', 'pat-na1-warm'],
  ] as const) {
    await vault.connections.create({
      id,
      provider: 'hubspot',
      baseUrl: fake.url,
      auth: { scheme: 'bearer', token },
      metadata: { tier },
    });
  }
  const jobs = [0, 1, 2].map((i) => ({
    read: [1 + i * (CONTACTS / 3), CONTACTS / 3],
    upsert: [1 + i * 1700, i === 2 ? UPSERTS - 3400 : 1700],
  }));
  const children = jobs.map((job) =>
    spawnFixture(CLIENT, [testDb.url, vault.key, tempDataDir(), JSON.stringify(job)]),
  );
  cleanups.push(async () => {
    for (const { child } of children) if (child.exitCode === null) child.kill('SIGKILL');
  });
  for (const { child, output } of children) await lineOf(child, output, /^ready$/m);
  const before = (await fake.buckets()).tenSecondly.requests;
  for (const { child } of children) child.stdin!.write('go\n');
  const results: ChildResult[] = [];
  for (const { child, output } of children) {
    results.push(JSON.parse(await lineOf(child, output, /^\{.*\}$/m)) as ChildResult);
  }
  const elapsed = Math.max(...results.map((r) => r.last)) - Math.min(...results.map((r) => r.first));
  const buckets = await fake.buckets();
  return {
    results,
    elapsed,
    requests: buckets.tenSecondly.requests - before,
    limited: buckets.tenSecondly.limited,
  };
}

/** The fake in its own process: arrivals are timed by an event loop that does nothing else. */
async function startFakeProcess(options: Record<string, unknown>) {
  const { child, output } = spawnFixture(FAKE, [JSON.stringify(options)]);
  const url = await lineOf(child, output, /^http:\/\/\S+$/m);
  return {
    url,
    buckets: async () =>
      (
        (await (await fetch(`${url}/_fake/stats`)).json()) as {
          buckets: Record<string, { requests: number; limited: number }>;
        }
      ).buckets as Record<'tenSecondly' | 'daily' | 'search', { requests: number; limited: number }>,
    async close() {
      child.stdin!.end();
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** The first line of a fixture's output that matches, once printed (failing if it exits first). */
async function lineOf(child: ChildProcess, output: () => string, pattern: RegExp): Promise<string> {
  await until(`${pattern} from the fixture`, () => {
    if (pattern.test(output())) return true;
    if (child.exitCode !== null) throw new Error(`fixture exited (${child.exitCode}): ${output()}`);
    return false;
  });
  return pattern.exec(output())![0];
}

const minimum = (perTenSeconds: number) => (Math.ceil(REQUESTS / perTenSeconds) - 1) * 10_000;

describe.skipIf(!postgres.available)('HubSpot limits shared by 3 processes on PostgreSQL', () => {
  it('reads 30,000 contacts and upserts 5,000 with no 429, within 5 % of the starter minimum', {
    timeout: 180_000,
  }, async () => {
    const { results, elapsed, requests, limited } = await run('starter');
    const min = minimum(100);
    console.log(
      `starter: ${requests} requests from 3 processes in ${elapsed} ms (minimum ${min} ms, quota used ${((min / elapsed) * 100).toFixed(1)} %), 429s: ${limited}`,
    );
    expect(results.map((r) => r.codes)).toEqual([{}, {}, {}]);
    expect(results.map((r) => r.records)).toEqual([
      { read: 10_000, written: 1700 },
      { read: 10_000, written: 1700 },
      { read: 10_000, written: 1600 },
    ]);
    expect(requests).toBe(REQUESTS);
    expect(limited).toBe(0);
    expect(elapsed).toBeGreaterThanOrEqual(min);
    expect(elapsed).toBeLessThanOrEqual(min * 1.05);
  });

  it('goes at the professional tier’s pace when the connection says professional', {
    timeout: 120_000,
  }, async () => {
    const { results, elapsed, limited } = await run('professional');
    const min = minimum(190);
    console.log(`professional: ${REQUESTS} requests in ${elapsed} ms (minimum ${min} ms), 429s: ${limited}`);
    expect(results.map((r) => r.codes)).toEqual([{}, {}, {}]);
    expect(limited).toBe(0);
    expect(elapsed).toBeGreaterThanOrEqual(min);
    // Faster than the starter tier's quota allows at all (it does not depend on the starter run passing).
    expect(elapsed).toBeLessThan(minimum(100));
  });
});
