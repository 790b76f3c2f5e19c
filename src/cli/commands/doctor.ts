import { Command } from 'commander';
import { isLoopbackHost } from '../../core/api/admin-exposure.js';
import { errorMessage, isPatchbayError } from '../../core/errors.js';
import type { AuditHistory } from '../../store/audit-store.js';
import type { Finding } from '../doctor/finding.js';
import { configFrom, type GlobalOptions } from '../lifecycle.js';
import { CliError } from '../output.js';

interface DoctorOptions extends GlobalOptions {
  json?: boolean;
}

/**
 * Checks everything `start` needs without starting, and audits the configuration, the objects made
 * through the API and the store's last 24 hours for red flags (docs/operations.md lists each check). It
 * opens the store and the vault's key check only: neither the server nor the engine's modules are loaded.
 */
export function doctorCommand(): Command {
  return new Command('doctor')
    .description(
      'Check the configuration, the database and the environment without starting, and audit them for red flags (exits 1 on errors).',
    )
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print {ok, findings} as JSON')
    .action(async (options: DoctorOptions) => {
      const ok: string[] = [];
      const findings: Finding[] = [];
      const problem = (
        check: string,
        severity: Finding['severity'],
        subject: string,
        text: string,
        fix: string,
      ) => findings.push({ check, severity, subject, problem: text, fix });
      try {
        const loaded = await configFrom(options);
        const { config, file } = loaded;
        ok.push(`config ${file ?? '(no file: defaults)'}`);
        if (config.server.adminToken) ok.push('admin token set');
        else if (isLoopbackHost(config.server.host) && !config.server.trustProxy)
          problem(
            'no-admin-token',
            'warning',
            'server.adminToken',
            `no admin token: the admin API is open to this machine (${config.server.host})`,
            'set PATCHBAY_ADMIN_TOKEN (16+ characters)',
          );
        const { auditConfig } = await import('../doctor/config-checks.js');
        const { providerHosts } = await import('../doctor/provider-hosts.js');
        const { loadBuiltInConnectors } = await import('../../connectors/registry.js');
        const { databaseUrl } = await import('../../store/database-url.js');
        const { openDatabase } = await import('../../store/database.js');
        const { migrationStatus } = await import('../../store/migrate.js');
        let stored: AuditHistory | undefined;
        try {
          const database = await openDatabase(databaseUrl(config));
          try {
            const status = await migrationStatus(database);
            ok.push(`database ${database.description}`);
            if (status.pending.length > 0)
              problem(
                'pending-migrations',
                'warning',
                database.description,
                `pending migrations: ${status.pending.join(', ')}`,
                'run `patchbay migrate` (start applies them too)',
              );
            else {
              ok.push('migrations current');
              try {
                const { Vault } = await import('../../vault/vault.js');
                const vault = await Vault.open({ database, dataDir: config.dataDir, checkOnly: true });
                ok.push(
                  `encryption key from ${vault.source.description} (primary ${await vault.primaryKeyId()})`,
                );
              } catch (err) {
                const fixable = isPatchbayError(err) && err.keyCanBeGenerated === true;
                problem(
                  'encryption-key',
                  fixable ? 'warning' : 'error',
                  'vault',
                  errorMessage(err),
                  fixable
                    ? 'start generates one'
                    : 'set PATCHBAY_ENCRYPTION_KEY to the key this database was sealed with',
                );
              }
              const { readAuditHistory } = await import('../../store/audit-store.js');
              const { auditHistory, HISTORY_MS } = await import('../doctor/history-checks.js');
              stored = await readAuditHistory(database, Date.now() - HISTORY_MS);
              findings.push(...auditHistory(stored));
            }
          } finally {
            await database.close();
          }
        } catch (err) {
          problem(
            'database',
            'error',
            'database',
            errorMessage(err),
            'check PATCHBAY_DATABASE_URL and that the database runs',
          );
        }
        findings.unshift(
          ...auditConfig({
            config,
            literalSecrets: loaded.literalSecrets,
            ...(stored && { stored }),
            providerHosts: providerHosts(await loadBuiltInConnectors()),
          }),
        );
      } catch (err) {
        const { ConfigError } = await import('../../core/config/load.js');
        if (!(err instanceof ConfigError)) throw err;
        for (const p of err.problems)
          problem('config-invalid', 'error', 'config', p, 'see docs/configuration.md');
      }
      const errors = findings.filter((f) => f.severity === 'error').length;
      if (options.json) process.stdout.write(`${JSON.stringify({ ok, findings, errors }, null, 2)}\n`);
      else
        process.stdout.write(
          `${[...ok.map((line) => `ok    ${line}`), ...findings.map(formatFinding)].join('\n')}\n`,
        );
      if (errors > 0) throw new CliError(`${errors} error${errors === 1 ? '' : 's'} found`);
    });
}

function formatFinding(f: Finding): string {
  return `${f.severity === 'error' ? 'FAIL' : 'warn'}  ${f.subject}: ${f.problem}\n      fix: ${f.fix} [${f.check}]`;
}
