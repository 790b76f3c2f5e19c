import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

export const BIN = new URL('../../bin/patchbay.js', import.meta.url).pathname;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'patchbay-cli-'));
}

/** Environment for a CLI child: inherited PATH etc., but no PATCHBAY_* from the developer's shell. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PATCHBAY_')) env[k] = v;
  return { ...env, PATCHBAY_LOG_LEVEL: 'warn', ...extra };
}

/** Runs `patchbay …` (the built bin) to completion. */
export function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; timeoutMs?: number },
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: cleanEnv(options.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`patchbay ${args.join(' ')} did not exit in time; stderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Starts a long-running `patchbay …` and resolves once `/healthz` answers on `port`. */
export async function startCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; port: number; timeoutMs?: number },
): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: cleanEnv(options.env) });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`patchbay exited with ${child.exitCode}: ${output}`);
    try {
      const res = await fetch(`http://127.0.0.1:${options.port}/healthz`);
      if (res.ok) return { child, output: () => output };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`patchbay did not serve /healthz in time: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

type Run = (args: string[], env?: Record<string, string>) => Promise<CliResult>;

/**
 * A command run on this machine's store and against a running instance: both must agree on the exit
 * code, stdout and the message on stderr (local commands may add notes: a generated key, a left-out
 * config entry). Answers the local result.
 */
export function bothWays(local: Run, remote: Run): Run {
  return async (args, env = {}) => {
    const here = await local(args, env);
    const there = await remote(args, env);
    expect({ code: there.code, stdout: there.stdout }, `remote ${args.join(' ')}`).toEqual({
      code: here.code,
      stdout: here.stdout,
    });
    expect(there.stderr.trim(), `remote ${args.join(' ')}`).toBe(withoutNotes(here.stderr));
    return here;
  };
}

function withoutNotes(stderr: string): string {
  return stderr
    .split('\n')
    .filter((l) => !l.startsWith('{') && !l.startsWith('note:'))
    .join('\n')
    .trim();
}
