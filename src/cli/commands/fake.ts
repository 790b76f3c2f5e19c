import { Command } from 'commander';
import type { RunningFake } from '../../connectors/fake-kit/index.js';
import { CliError } from '../output.js';
import { finaleFakeCommand } from './fakes/finale.js';
import { githubFakeCommand } from './fakes/github.js';
import { hubspotFakeCommand } from './fakes/hubspot.js';
import { msgraphFakeCommand } from './fakes/msgraph.js';
import { openaiFakeCommand } from './fakes/openai.js';
import { sendgridFakeCommand } from './fakes/sendgrid.js';
import { stripeFakeCommand } from './fakes/stripe.js';

/**
 * `patchbay fake <provider>`: serves a provider's fake on 127.0.0.1 until SIGINT/SIGTERM. Each provider
 * is a subcommand with its own options (in `fakes/`), so `patchbay fake github --help` lists GitHub's.
 */
export function fakeCommand(): Command {
  const command = new Command('fake').description(
    'Serve a faithful fake of a provider API on 127.0.0.1, with its control plane under /_fake/ (for tests and local development).',
  );
  for (const sub of [
    finaleFakeCommand(),
    githubFakeCommand(),
    hubspotFakeCommand(),
    msgraphFakeCommand(),
    openaiFakeCommand(),
    sendgridFakeCommand(),
    stripeFakeCommand(),
  ]) {
    command.addCommand(sub.exitOverride().showHelpAfterError('(run with --help for usage)'));
  }
  return command;
}

/** `--port`: a port number, 0 for any free one. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535)
    throw new CliError(`--port must be a port number (0–65535), got "${value}"`);
  return port;
}

/** A whole number ≥ 1 for a named option. */
export function parseCount(option: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1)
      throw new CliError(`${option} must be a whole number ≥ 1, got "${value}"`);
    return n;
  };
}

/**
 * Starts a fake, prints where it listens and what `GET /_fake` lists (registrations, credentials),
 * and runs until SIGINT/SIGTERM.
 */
export async function runFake(name: string, start: () => Promise<RunningFake>): Promise<void> {
  const fake = await start();
  const info = await (await fetch(`${fake.url}/_fake`)).json();
  process.stdout.write(`${name} fake listening on ${fake.url}\n`);
  if (fake.httpsUrl) process.stdout.write(`${name} fake listening on ${fake.httpsUrl}\n`);
  process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      fake.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
