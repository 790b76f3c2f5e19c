import { type ChildProcess, spawn } from 'node:child_process';
import { BIN, cleanEnv, tempDir } from '../helpers/cli.js';

/** `patchbay fake <provider> …` as a child process, once it has printed the URL it listens on. */
export async function startFakeCli(
  args: string[],
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [BIN, 'fake', ...args], { cwd: tempDir(), env: cleanEnv() });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const match = /fake listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
    // The URL line comes first, then the /_fake description: wait for that to finish too.
    if (match && output.trimEnd().endsWith('}')) return { child, url: match[1]!, output: () => output };
    if (child.exitCode !== null) throw new Error(`patchbay fake exited with ${child.exitCode}: ${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`patchbay fake printed no URL in time: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
