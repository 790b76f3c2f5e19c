/**
 * Dashboard pages at volume: SQLite seeded with EVENTS events and as many deliveries (one attempt each)
 * over the last 30 days, then every page rendered through the server (Fastify `inject`: routing, the
 * session, the store's queries, the HTML) RUNS times; p50 and p95 per page, and each p50 as a ratio of
 * the server's floor in the same run (`GET /healthz` through the same app). Target: p95 < 200 ms.
 *
 *   npx tsx bench/ui.ts                 # EVENTS=1000000 RUNS=40
 *   EVENTS=100000 RUNS=20 npx tsx bench/ui.ts
 *   SEEDED=/tmp/ui-1m.db npx tsx bench/ui.ts   # seed once into that file, then start from a copy of it
 *
 * Seeding writes the tables directly through better-sqlite3 in large transactions (the pipeline would
 * take an hour to ingest a million events here); the rows are what the pipeline writes.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Sqlite from 'better-sqlite3';
import { type Clock, systemClock } from '../src/core/clock.js';
import { parseConfig } from '../src/core/config/index.js';
import { idAt, idTime } from '../src/core/ids.js';
import { createLogger } from '../src/core/logger.js';
import { Engine } from '../src/engine/index.js';
import { buildServer } from '../src/server/index.js';
import { generateWebhookSecret } from '../src/webhooks/index.js';
import { median, percentile, printTable } from './util.js';

const EVENTS = Number(process.env.EVENTS ?? 1_000_000);
const RUNS = Number(process.env.RUNS ?? 40);
const DAYS = 30;
const DESTINATIONS = ['crm-app', 'billing', 'search-index'];
/** A seeded database kept between runs (seeding a million rows takes minutes); each run works on a copy. */
const SEEDED = process.env.SEEDED;

function seed(file: string, now: number): { eventId: string; deliveryId: string } {
  const db = new Sqlite(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const event = db.prepare(
    `insert into events (id, source, external_id, type, headers, body, content_type, request_id, verification,
       received_at, occurred_at, duplicates, last_duplicate_at) values (?, ?, ?, ?, ?, ?, ?, null, ?, ?, null, 0, null)`,
  );
  const delivery = db.prepare(
    `insert into deliveries (id, event_id, destination_id, status, attempts, cycle_attempts, next_attempt_at,
       last_status, last_error, failing_notified, manual, created_at, updated_at, succeeded_at)
     values (?, ?, ?, ?, 1, 1, ?, ?, ?, 0, 0, ?, ?, ?)`,
  );
  const attempt = db.prepare(
    `insert into delivery_attempts (id, delivery_id, attempt, trigger, url, started_at, duration_ms, status_code,
       response_headers, response_body, error_code, error_message, outcome)
     values (?, ?, 1, 'scheduled', ?, ?, 42, ?, '{"content-type":"text/plain"}', ?, ?, ?, ?)`,
  );
  const headers = JSON.stringify({ 'content-type': 'application/json', 'user-agent': 'GitHub-Hookshot/abc' });
  const start = now - DAYS * 86_400_000;
  // Not `newId`: the engine opened before seeding made ids at the current time, and newId's are monotonic.
  const step = (DAYS * 86_400_000) / EVENTS;
  let last = { eventId: '', deliveryId: '' };
  const batch = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const at = Math.floor(start + i * step);
      const gh = i % 3 === 0;
      const type = gh ? 'issues' : i % 3 === 1 ? 'order.created' : 'invoice.paid';
      const eventId = idAt('evt', at, i);
      const body = Buffer.from(
        JSON.stringify({
          id: i,
          type,
          customer: { id: `cus_${i % 5000}`, email: `user${i % 5000}@example.com` },
          lines: [{ sku: `sku-${i % 97}`, qty: 1 + (i % 4), price: 1999 }],
          note: i % 100_000 === 7 ? 'needle' : 'nothing special here',
        }),
      );
      event.run(
        eventId,
        gh ? 'gh' : 'api',
        `x-${i}`,
        type,
        headers,
        body,
        'application/json',
        gh ? 'github' : 'api',
        at,
      );
      const deliveryId = idAt('dlv', at + 1, i);
      const roll = i % 20;
      const status = roll === 0 ? 'failed' : roll === 1 ? 'pending' : 'succeeded';
      const code = status === 'succeeded' ? 200 : roll === 0 ? 503 : 422;
      const error = status === 'succeeded' ? null : `HTTP ${code}`;
      const destination = DESTINATIONS[i % DESTINATIONS.length]!;
      delivery.run(
        deliveryId,
        eventId,
        destination,
        status,
        status === 'pending' ? at + 60_000 : null,
        code,
        error,
        at + 1,
        at + 50,
        status === 'succeeded' ? at + 50 : null,
      );
      attempt.run(
        idAt('att', at + 5, i),
        deliveryId,
        `https://${destination}.example.com/hooks`,
        at + 5,
        code,
        status === 'succeeded' ? 'ok' : 'busy',
        error && 'HTTP_ERROR',
        error,
        status === 'succeeded' ? 'succeeded' : 'failed',
      );
      last = { eventId, deliveryId };
    }
  });
  const began = performance.now();
  for (let i = 0; i < EVENTS; i += 50_000) batch(i, Math.min(EVENTS, i + 50_000));
  db.pragma('wal_checkpoint(TRUNCATE)');
  // No ANALYZE: Patchbay never runs it, and with its statistics SQLite prefers scanning the attempts
  // table to the primary key's range for the overview's counts (5 s at 1,000,000; docs/dashboard.md).
  db.close();
  console.log(
    `seeded ${EVENTS.toLocaleString('en-US')} events, deliveries and attempts in ${((performance.now() - began) / 1000).toFixed(1)} s`,
  );
  return last;
}

/** The newest event and delivery of a seeded file. */
function newest(file: string): { eventId: string; deliveryId: string } {
  const db = new Sqlite(file, { readonly: true });
  const eventId = (db.prepare('select max(id) as id from events').get() as { id: string }).id;
  const deliveryId = (db.prepare('select max(id) as id from deliveries').get() as { id: string }).id;
  db.close();
  return { eventId, deliveryId };
}

/**
 * Seeds `file`, or copies SEEDED into it when that was seeded before; the engine's clock is then set
 * back to the seeding time, so the charts and `since` pages read the same rows as on the first run.
 */
async function seeded(
  file: string,
  seedFile: () => Promise<{ eventId: string; deliveryId: string }>,
): Promise<{ eventId: string; deliveryId: string }> {
  if (SEEDED === undefined) return seedFile();
  // The vault's generated key goes with the database it encrypted.
  const key = join(dirname(file), 'encryption.key');
  if (!existsSync(SEEDED)) {
    const last = await seedFile();
    copyFileSync(file, SEEDED);
    copyFileSync(key, `${SEEDED}.key`);
    return last;
  }
  copyFileSync(SEEDED, file);
  copyFileSync(`${SEEDED}.key`, key);
  console.log(`copied ${SEEDED}`);
  return newest(file);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-bench-ui-'));
  const file = join(dir, 'bench.db');
  const config = parseConfig({
    dataDir: dir,
    database: { url: `sqlite:${file}` },
    sources: [{ id: 'gh', verify: { scheme: 'github', secrets: ['gh-secret-0123456789abcdef'] } }],
    destinations: DESTINATIONS.map((id) => ({
      id,
      url: `https://${id}.example.com/hooks`,
      secrets: [generateWebhookSecret()],
    })),
  });
  const logger = createLogger({ level: 'warn' });
  const { eventId, deliveryId } = await seeded(file, async () => {
    // Opened once to migrate (and to register the destinations), then closed for the seeding.
    await (await Engine.open({ config, logger })).stop();
    return seed(file, Date.now());
  });
  const migrating = performance.now();
  const shift = Math.max(0, Date.now() - idTime(eventId));
  const clock: Clock = { now: () => Date.now() - shift, sleep: systemClock.sleep };
  const engine = await Engine.open({ config, logger, clock });
  console.log(`opened (migrations included) in ${((performance.now() - migrating) / 1000).toFixed(1)} s`);
  const app = await buildServer(engine);
  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url });
    if (res.statusCode !== 200)
      throw new Error(`${url} answered ${res.statusCode}: ${res.body.slice(0, 300)}`);
    return res.body;
  };
  const first = await get('/ui/events');
  const older = /href="(\/ui\/events\?[^"]*before=[^"]+)" rel="next"/.exec(first)![1]!.replace(/&amp;/g, '&');
  const pages: [string, string][] = [
    ['overview (charts over 24 h)', '/ui/'],
    ['events', '/ui/events'],
    ['events, older page', older],
    ['events of gh', '/ui/events?source=gh'],
    ['events of type invoice.paid', '/ui/events?type=invoice.paid'],
    ['events, payload text (rare)', '/ui/events?text=needle'],
    ['events, last 2 h', '/ui/events?since=2h'],
    ['event', `/ui/events/${eventId}`],
    ['deliveries', '/ui/deliveries'],
    ['deliveries failed', '/ui/deliveries?status=failed'],
    ['deliveries 5xx to crm-app', '/ui/deliveries?destination=crm-app&http=5xx'],
    ['delivery (attempts)', `/ui/deliveries/${deliveryId}`],
    ['destinations', '/ui/destinations'],
    ['destination', '/ui/destinations/crm-app'],
    ['sources', '/ui/sources'],
    ['source', '/ui/sources/gh'],
    ['connections', '/ui/connections'],
    ['jobs', '/ui/jobs'],
    ['floor: GET /healthz', '/healthz'],
  ];
  const times = new Map<string, number[]>();
  for (const [, url] of pages) for (let i = 0; i < 3; i++) await get(url); // warm-up
  // Interleaved rounds: a burst of load on the shared machine lands on every page alike.
  for (let r = 0; r < RUNS; r++) {
    for (const [name, url] of pages) {
      const began = performance.now();
      await get(url);
      const list = times.get(name) ?? [];
      list.push(performance.now() - began);
      times.set(name, list);
    }
  }
  const floor = median(times.get('floor: GET /healthz')!);
  printTable(
    ['page', 'p50 ms', 'p95 ms', 'p50 / floor', '< 200 ms p95'],
    pages.map(([name]) => {
      const list = times.get(name)!;
      const p95 = percentile(list, 95);
      return [
        name,
        median(list).toFixed(1),
        p95.toFixed(1),
        `${(median(list) / floor).toFixed(1)}x`,
        p95 < 200 ? 'yes' : 'NO',
      ];
    }),
  );
  console.log(
    `${EVENTS.toLocaleString('en-US')} events and deliveries over ${DAYS} days, ${RUNS} runs a page, SQLite`,
  );
  await app.close();
  await engine.stop();
  if (process.env.KEEP) console.log(`kept ${file}`);
  else rmSync(dir, { recursive: true, force: true });
}

await main();
