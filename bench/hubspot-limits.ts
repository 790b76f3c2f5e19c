/**
 * How much of HubSpot's 10 s quota a client uses: the same batch reads (100 contacts each) sent as fast
 * as each client allows against the HubSpot fake (in its own process, a fresh one per run, so its
 * buckets start empty), on the starter tier (100 per rolling 10 s):
 * - `@hubspot/api-client` with its own preset, `limiterOptions: DEFAULT_LIMITER_OPTIONS` (Bottleneck,
 *   9 a second, 6 at once) and `numberOfApiCallRetries: 6`;
 * - Patchbay's HubSpot client (`provider: hubspot`, the tier's rolling window).
 * The quota allows `REQUESTS` in no less than (⌈REQUESTS / 100⌉ − 1) × 10 s; "quota used" is that minimum
 * over the elapsed time, median of RUNS.
 *
 *   npx tsx bench/hubspot-limits.ts        # REQUESTS=300 RUNS=1
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Client, DEFAULT_LIMITER_OPTIONS } from '@hubspot/api-client';
import { ConnectorClients } from '../src/connectors/index.js';
import { MemoryRateLimitStore } from '../src/resilience/rate-limit-store.js';
import { openDatabase } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { formatKey, generateKey, openVault } from '../src/vault/index.js';

import { median, printTable } from './util.js';

const REQUESTS = Number(process.env.REQUESTS ?? 300);
const RUNS = Number(process.env.RUNS ?? 1);
const PER_TEN_SECONDS = 100;
const MINIMUM_MS = (Math.ceil(REQUESTS / PER_TEN_SECONDS) - 1) * 10_000;
const fakeScript = fileURLToPath(new URL('../test/fixtures/hubspot-fake-process.ts', import.meta.url));

interface Result {
  elapsed: number;
  limited: number;
  /** Records the reads returned (REQUESTS × 100 when every call succeeded). */
  read: number;
}

async function startFake(): Promise<{ url: string; limited(): Promise<number>; close(): Promise<void> }> {
  const options = { tier: 'starter', seed: { contacts: 1000, associate: false } };
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', fakeScript, JSON.stringify(options)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve) =>
    createInterface({ input: child.stdout! }).once('line', resolve),
  );
  return {
    url,
    async limited() {
      const stats = (await (await fetch(`${url}/_fake/stats`)).json()) as {
        buckets: { tenSecondly: { limited: number } };
      };
      return stats.buckets.tenSecondly.limited;
    },
    async close() {
      child.stdin!.end();
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** The i-th request's 100 ids (the fake numbers its contacts from 101; reads go round the 1,000). */
const idsOf = (i: number) => Array.from({ length: 100 }, (_, j) => String(101 + ((i * 100 + j) % 1000)));

async function sdk(url: string): Promise<Omit<Result, 'limited'>> {
  const client = new Client({
    accessToken: 'pat-na1-bench-sdk',
    basePath: url,
    limiterOptions: DEFAULT_LIMITER_OPTIONS,
    numberOfApiCallRetries: 6,
  });
  const started = Date.now();
  const outcomes = await Promise.allSettled(
    Array.from({ length: REQUESTS }, (_, i) =>
      client.crm.contacts.batchApi.read({
        inputs: idsOf(i).map((id) => ({ id })),
        properties: ['email'],
        propertiesWithHistory: [],
      }),
    ),
  );
  const elapsed = Date.now() - started;
  const read = outcomes.reduce((n, o) => n + (o.status === 'fulfilled' ? o.value.results.length : 0), 0);
  return { elapsed, read };
}

async function patchbay(url: string): Promise<Omit<Result, 'limited'>> {
  const database = await openDatabase('sqlite::memory:');
  await migrateToLatest(database);
  const vault = await openVault({
    database,
    env: { PATCHBAY_ENCRYPTION_KEY: formatKey(generateKey()) },
    dataDir: mkdtempSync(join(tmpdir(), 'patchbay-bench-vault-')),
    settings: { allowInsecureLoopback: true },
  });
  await vault.connections.create({
    id: 'crm',
    provider: 'hubspot',
    baseUrl: url,
    auth: { scheme: 'bearer', token: 'pat-na1-bench-patchbay' },
    metadata: { tier: 'starter' },
  });
  const clients = new ConnectorClients({
    connections: vault.connections,
    auth: vault.resolver,
    rateLimits: new MemoryRateLimitStore(),
    http: { deadlineMs: 600_000 },
  });
  const api = await clients.hubspot('crm');
  const ids = Array.from({ length: REQUESTS }, (_, i) => idsOf(i)).flat();
  const started = Date.now();
  const result = await api.contacts.batchRead(ids, { properties: ['email'], concurrency: 8 });
  const elapsed = Date.now() - started;
  await clients.close();
  await database.close();
  return { elapsed, read: result.results.length };
}

const contenders = { '@hubspot/api-client preset': sdk, 'Patchbay provider: hubspot': patchbay };
const rows: string[][] = [];
const medians: Record<string, number> = {};
for (const [name, run] of Object.entries(contenders)) {
  const results: Result[] = [];
  for (let r = 0; r < RUNS; r++) {
    const fake = await startFake();
    const outcome = await run(fake.url);
    results.push({ ...outcome, limited: await fake.limited() });
    await fake.close();
  }
  const elapsed = median(results.map((r) => r.elapsed));
  medians[name] = elapsed;
  rows.push([
    name,
    String(REQUESTS),
    (elapsed / 1000).toFixed(1),
    (MINIMUM_MS / 1000).toFixed(1),
    `${((MINIMUM_MS / elapsed) * 100).toFixed(1)} %`,
    String(median(results.map((r) => r.limited))),
    String(median(results.map((r) => r.read))),
  ]);
}
printTable(['client', 'requests', 'elapsed s', 'minimum s', 'quota used', '429s', 'records read'], rows);
const [sdkName, patchbayName] = Object.keys(contenders) as [string, string];
console.log(
  `\nPatchbay takes ${(medians[patchbayName]! / medians[sdkName]!).toFixed(2)}× the SDK preset's time for the same ${REQUESTS} requests (median of ${RUNS}).`,
);
process.exit(0);
