import { Command } from 'commander';
import { assertAdminTokenForBind } from '../../core/api/admin-exposure.js';
import { errorMessage, isPatchbayError } from '../../core/errors.js';
import { configFrom, type GlobalOptions } from '../lifecycle.js';
import { CliError } from '../output.js';

/**
 * Checks everything `start` needs, without starting, and prints one line per check. It opens the store
 * and the vault's key check only: neither the server nor the engine's modules are loaded.
 */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description('Check the configuration, the database and the environment without starting.')
    .option('-c, --config <file>', 'config file')
    .action(async (options: GlobalOptions) => {
      const lines: string[] = [];
      let failed = 0;
      const ok = (what: string) => lines.push(`ok    ${what}`);
      const fail = (what: string) => {
        failed++;
        lines.push(`FAIL  ${what}`);
      };
      const warn = (what: string) => lines.push(`warn  ${what}`);
      try {
        const { config, file } = await configFrom(options);
        ok(`config ${file ?? '(no file: defaults)'}`);
        try {
          assertAdminTokenForBind(config.server.host, config.server.adminToken);
          if (!config.server.adminToken)
            warn(`no admin token: the admin API is open to this machine (${config.server.host})`);
          else ok('admin token set');
        } catch (err) {
          fail(errorMessage(err));
        }
        for (const source of config.sources) {
          if (source.verify.scheme === 'none')
            warn(`source ${source.id} accepts unsigned webhooks (scheme "none")`);
        }
        const { databaseUrl } = await import('../../store/database-url.js');
        const { openDatabase } = await import('../../store/database.js');
        const { migrationStatus } = await import('../../store/migrate.js');
        try {
          const database = await openDatabase(databaseUrl(config));
          try {
            const status = await migrationStatus(database);
            ok(`database ${database.description}`);
            if (status.pending.length > 0)
              warn(`pending migrations (start applies them): ${status.pending.join(', ')}`);
            else {
              ok('migrations current');
              try {
                const { Vault } = await import('../../vault/vault.js');
                const vault = await Vault.open({ database, dataDir: config.dataDir, checkOnly: true });
                ok(`encryption key from ${vault.source.description} (primary ${await vault.primaryKeyId()})`);
              } catch (err) {
                if (isPatchbayError(err) && err.keyCanBeGenerated === true) warn(errorMessage(err));
                else fail(errorMessage(err));
              }
            }
          } finally {
            await database.close();
          }
        } catch (err) {
          fail(errorMessage(err));
        }
      } catch (err) {
        const { ConfigError } = await import('../../core/config/load.js');
        if (!(err instanceof ConfigError)) throw err;
        for (const problem of err.problems) fail(problem);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
      if (failed > 0) throw new CliError(`${failed} problem${failed === 1 ? '' : 's'} found`);
    });
}
