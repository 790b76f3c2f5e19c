import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { connectionsCommand } from './commands/connections.js';
import { deliveriesCommand, destinationsCommand } from './commands/deliveries.js';
import { doctorCommand } from './commands/doctor.js';
import { eventsCommand } from './commands/events.js';
import { fakeCommand } from './commands/fake.js';
import { keysCommand } from './commands/keys.js';
import { migrateCommand } from './commands/migrate.js';
import { sourcesCommand } from './commands/sources.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { syncsCommand } from './commands/syncs.js';
import { workerCommand } from './commands/worker.js';
import { CliError, printFailure } from './output.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('patchbay')
    .description(
      'Patchbay: a self-hosted integration engine (webhooks in and out, syncs, connections and OAuth, resilient API calls, a dashboard).',
    )
    .version(version(), '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const command of [
    startCommand(),
    workerCommand(),
    migrateCommand(),
    doctorCommand(),
    eventsCommand(),
    sourcesCommand(),
    deliveriesCommand(),
    destinationsCommand(),
    connectionsCommand(),
    syncsCommand(),
    keysCommand(),
    statusCommand(),
    fakeCommand(),
  ]) {
    program.addCommand(command.exitOverride().showHelpAfterError('(run with --help for usage)'));
  }
  return program;
}

/** Runs the CLI; sets the exit code instead of throwing. */
export async function main(argv: string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander has printed the help, the version or its own one-line error already.
      process.exitCode = err.exitCode;
      return;
    }
    printFailure(err);
    process.exitCode = err instanceof CliError ? err.exitCode : 1;
  }
}
