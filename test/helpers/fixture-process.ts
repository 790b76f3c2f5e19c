import { type ChildProcess, spawn } from 'node:child_process';

/** A test fixture (`test/fixtures/*.ts`) in its own process through tsx, its stdout and stderr collected. */
export function spawnFixture(fixture: URL, args: string[]): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture.pathname, ...args], {
    env: { ...process.env, PATCHBAY_LOG_LEVEL: 'warn' },
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  return { child, output: () => output };
}

/** Polls `check` every 20 ms until it holds, failing with `what` after `timeoutMs`. */
export async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The JSON lines a fixture has printed so far (`output()` of `spawnFixture`), other lines (warnings) left out. */
export function jsonLines<T>(output: string): T[] {
  return output
    .split('\n')
    .slice(0, -1) // the text after the last newline is a line not yet complete
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as T);
}
