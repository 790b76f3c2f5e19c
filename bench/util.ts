/** Small helpers shared by the benchmarks. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { type Database, openDatabase } from '../src/store/database.js';
import { migrateToLatest } from '../src/store/migrate.js';

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** `count` things done in `ms` milliseconds, per second. */
export const perSecond = (count: number, ms: number): number => (count / ms) * 1000;

/**
 * CPU time of this process since `since` (a `process.cpuUsage()`), in ms: on a loaded machine wall time
 * follows the load, CPU time much less.
 */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(line(row));
}

/** A fresh, migrated database a bench runs against. */
export interface BenchStore {
  database: Database;
  /** The database's url, for a peer or a raw driver on the same database. */
  url: string;
  /** Closes `database` and deletes the database (the SQLite file's folder, or the PostgreSQL database). */
  drop(): Promise<void>;
}

export interface BenchTarget {
  name: 'sqlite' | 'postgres';
  open(): Promise<BenchStore>;
}

/**
 * The stores a bench runs on: SQLite (Patchbay's synchronous=FULL) in a temporary folder, and PostgreSQL
 * when PATCHBAY_BENCH_POSTGRES_URL or PATCHBAY_TEST_POSTGRES_URL is set, each `open()` a new database
 * named `<prefix>_<pid>_<n>` on that server. ONLY=sqlite or ONLY=postgres keeps one.
 */
export function benchTargets(options: { prefix: string; poolSize: number }): BenchTarget[] {
  const only = process.env.ONLY;
  const targets: BenchTarget[] = [];
  if (only !== 'postgres') targets.push({ name: 'sqlite', open: openSqlite });
  const pgUrl = process.env.PATCHBAY_BENCH_POSTGRES_URL ?? process.env.PATCHBAY_TEST_POSTGRES_URL;
  if (pgUrl && only !== 'sqlite') {
    let opened = 0;
    targets.push({
      name: 'postgres',
      open: () => openPostgres(pgUrl, `${options.prefix}_${process.pid}_${++opened}`, options.poolSize),
    });
  } else if (only !== 'sqlite') {
    console.log('(PostgreSQL skipped: set PATCHBAY_TEST_POSTGRES_URL to include it)');
  }
  return targets;
}

async function openSqlite(): Promise<BenchStore> {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-bench-'));
  const url = `sqlite:${join(dir, 'bench.db')}`;
  const database = await openDatabase(url);
  await migrateToLatest(database);
  return {
    database,
    url,
    async drop() {
      await database.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function openPostgres(serverUrl: string, name: string, poolSize: number): Promise<BenchStore> {
  const admin = async (statement: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(statement);
    } finally {
      await client.end();
    }
  };
  await admin(`drop database if exists ${name} with (force)`);
  await admin(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase(url.toString(), { poolSize });
  await migrateToLatest(database);
  return {
    database,
    url: url.toString(),
    async drop() {
      await database.close();
      await admin(`drop database if exists ${name} with (force)`);
    },
  };
}
