/**
 * Vault costs on the hot path, each beside a baseline doing the bare minimum in the same run:
 * - seal + open of a token with the vault (envelope, key id, context, primary-key check) vs raw
 *   AES-256-GCM with node:crypto;
 * - `authorize()` of a connection with a cached OAuth token (what the HTTP client calls before every
 *   attempt) vs building the same header from a variable;
 * - 1000 concurrent callers needing a refresh at once (single flight) vs one caller alone, both against
 *   a local token endpoint: the coordination overhead of sharing one refresh.
 *
 *   npx tsx bench/vault.ts            RUNS=7 npx tsx bench/vault.ts
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';
import { FakeClock } from '../src/testing/fake-clock.js';
import { formatKey, generateKey, openVault } from '../src/vault/index.js';
import { median, printTable } from './util.js';

const RUNS = Number(process.env.RUNS ?? 5);
const OPS = Number(process.env.OPS ?? 50_000);

function opsPerSecond(fn: () => void, ops: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) fn();
  return ops / (Number(process.hrtime.bigint() - start) / 1e9);
}

async function opsPerSecondAsync(fn: () => Promise<unknown>, ops: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) await fn();
  return ops / (Number(process.hrtime.bigint() - start) / 1e9);
}

const dir = mkdtempSync(join(tmpdir(), 'patchbay-bench-vault-'));
const database = await openDatabase(`sqlite:${join(dir, 'bench.db')}`);
await migrateToLatest(database);
let grants = 0;
const endpoint = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    grants++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: `at-${grants}`, token_type: 'bearer', expires_in: 3600 }));
  });
});
await new Promise<void>((r) => endpoint.listen(0, '127.0.0.1', () => r()));
const tokenUrl = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/token`;
const clock = new FakeClock(Date.now());
const v = await openVault({
  database,
  clock,
  env: { PATCHBAY_ENCRYPTION_KEY: formatKey(generateKey()) },
  settings: { allowInsecureLoopback: true, refreshSkewMs: 60_000 },
});
const connection = (id: string) =>
  v.connections.create({
    id,
    auth: {
      scheme: 'oauth2-client-credentials',
      tokenUrl,
      clientId: 'c',
      clientSecret: 's',
      clientAuth: 'client_secret_post',
    },
  });

const token = `pat-na1-${randomBytes(24).toString('hex')}`;
const key = randomBytes(32);
const rows: string[][] = [];

// 1. seal + open
const sealRuns: number[] = [];
const rawRuns: number[] = [];
for (let r = 0; r < RUNS; r++) {
  sealRuns.push(
    await opsPerSecondAsync(
      async () => v.vault.open(await v.vault.seal(token, 'connections/x/secrets'), 'connections/x/secrets'),
      OPS / 5,
    ),
  );
  rawRuns.push(
    opsPerSecond(() => {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(token), c.final()]);
      const d = createDecipheriv('aes-256-gcm', key, iv);
      d.setAuthTag(c.getAuthTag());
      Buffer.concat([d.update(body), d.final()]);
    }, OPS / 5),
  );
}
rows.push([
  'seal + open (ops/s)',
  median(sealRuns).toFixed(0),
  median(rawRuns).toFixed(0),
  (median(sealRuns) / median(rawRuns)).toFixed(2),
]);

// 2. authorize() with a cached token
await connection('hot');
const provider = await v.resolver.authProvider('hot');
const request = { method: 'GET', url: new URL('https://api.example.com/x'), headers: {} };
await provider.authorize(request);
const authRuns: number[] = [];
const headerRuns: number[] = [];
const accessToken = 'at-1';
for (let r = 0; r < RUNS; r++) {
  authRuns.push(await opsPerSecondAsync(() => provider.authorize(request), OPS));
  headerRuns.push(
    await opsPerSecondAsync(async () => ({ headers: { authorization: `Bearer ${accessToken}` } }), OPS),
  );
}
rows.push([
  'authorize(), cached (ops/s)',
  median(authRuns).toFixed(0),
  median(headerRuns).toFixed(0),
  (median(authRuns) / median(headerRuns)).toFixed(2),
]);

// 3. refresh: 1000 concurrent callers vs 1
const manyRuns: number[] = [];
const oneRuns: number[] = [];
for (let r = 0; r < RUNS; r++) {
  await connection(`many-${r}`);
  await connection(`one-${r}`);
  const before = grants;
  let start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: 1000 }, () => v.refresh.current(`many-${r}`)));
  manyRuns.push(Number(process.hrtime.bigint() - start) / 1e6);
  if (grants - before !== 1) throw new Error(`expected one grant for 1000 callers, got ${grants - before}`);
  start = process.hrtime.bigint();
  await v.refresh.current(`one-${r}`);
  oneRuns.push(Number(process.hrtime.bigint() - start) / 1e6);
}
rows.push([
  'first token, 1000 callers vs 1 (ms)',
  median(manyRuns).toFixed(1),
  median(oneRuns).toFixed(1),
  (median(manyRuns) / median(oneRuns)).toFixed(2),
]);

console.log(`vault benchmark: median of ${RUNS} runs (one grant per 1000 callers checked)`);
printTable(['measure', 'patchbay', 'baseline', 'ratio'], rows);

endpoint.close();
await database.close();
rmSync(dir, { recursive: true, force: true });
