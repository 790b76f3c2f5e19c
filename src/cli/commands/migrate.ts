import { Command } from 'commander';
import { configFrom, type GlobalOptions } from '../lifecycle.js';

export function migrateCommand(): Command {
  return new Command('migrate')
    .description('Apply pending database migrations (start does this too).')
    .option('-c, --config <file>', 'config file')
    .option('--status', 'list applied and pending migrations without applying any')
    .action(async (options: GlobalOptions & { status?: boolean }) => {
      const { config } = await configFrom(options);
      const { databaseUrl } = await import('../../store/database-url.js');
      const { openDatabase } = await import('../../store/database.js');
      const { migrateToLatest, migrationStatus } = await import('../../store/migrate.js');
      const database = await openDatabase(databaseUrl(config), {
        sqliteSynchronous: config.database.sqliteSynchronous,
      });
      try {
        if (options.status) {
          const status = await migrationStatus(database);
          for (const name of status.applied) process.stdout.write(`applied  ${name}\n`);
          for (const name of status.pending) process.stdout.write(`pending  ${name}\n`);
          return;
        }
        const applied = await migrateToLatest(database);
        process.stdout.write(
          applied.length === 0
            ? `${database.description}: up to date\n`
            : `${database.description}: applied ${applied.join(', ')}\n`,
        );
      } finally {
        await database.close();
      }
    });
}
