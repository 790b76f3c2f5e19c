/**
 * Runs every benchmark, one after the other, each in its own process (they share no state, and one's
 * garbage or JIT warm-up must not colour the next). Each prints its own table of Patchbay beside its
 * baseline. Environment variables pass through (RUNS, PATCHBAY_TEST_POSTGRES_URL, …).
 *
 *   npm run bench                       # all of them (~15 minutes on a 2-core machine)
 *   npm run bench -- delivery queue     # some of them, by name
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
/** Files here that are not benchmarks themselves. */
const HELPERS = new Set([
  'run-all',
  'util',
  'receiver-process',
  'records-fake-process',
  'ingress-server',
  'slow-clients-server',
]);
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3))
  .filter((name) => !HELPERS.has(name))
  .sort();

const asked = process.argv.slice(2);
const unknown = asked.filter((name) => !available.includes(name));
if (unknown.length > 0) {
  console.error(`unknown benchmark ${unknown.join(', ')}; there are: ${available.join(', ')}`);
  process.exit(2);
}

const failed: string[] = [];
for (const name of asked.length > 0 ? asked : available) {
  console.log(`\n=== bench/${name}.ts`);
  const { status, signal } = spawnSync(process.execPath, ['--import', 'tsx', `${dir}${name}.ts`], {
    stdio: 'inherit',
  });
  if (status !== 0) failed.push(`${name} (${signal ?? `exit ${status}`})`);
}
if (failed.length > 0) {
  console.error(`\nfailed: ${failed.join(', ')}`);
  process.exit(1);
}
