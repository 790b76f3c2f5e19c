import type { ChildProcess } from 'node:child_process';
import { jsonLines, spawnFixture } from './fixture-process.js';

/**
 * The pieces kill tests share: a seeded random source (the same kill moments and changes on every
 * run), sync fixture processes read by the JSON line each prints per run, and SIGKILL that waits for the exit.
 */

/** A seeded generator (mulberry32). */
export function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The line a sync fixture prints for each run it made. */
export interface RunLine {
  sync: string;
  startedAt: number;
  status: string;
  counts?: Record<string, number>;
  error?: string;
}

export interface SyncProcess {
  child: ChildProcess;
  /** The runs it reported so far, in order. */
  runs(): RunLine[];
}

/** Starts `fixture` with `args`; `all` collects every process started. */
export function startSyncProcess(fixture: URL, args: string[], all: SyncProcess[]): SyncProcess {
  const { child, output } = spawnFixture(fixture, args);
  const started: SyncProcess = {
    child,
    runs: () => jsonLines<RunLine>(output()).filter((line) => typeof line.sync === 'string'),
  };
  all.push(started);
  return started;
}

/** SIGKILLs the process and resolves once it has exited. */
export async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}
