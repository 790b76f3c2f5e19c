import { Command } from 'commander';
import { ciphertextPrefix, formatKey, generateKey } from '../../vault/index.js';
import { type GlobalOptions, withEngine } from '../lifecycle.js';
import { CliError } from '../output.js';
import { progressBar } from '../progress.js';
import { formatTable } from '../table.js';

export function keysCommand(): Command {
  const keys = new Command('keys').description('Manage the encryption keys of the credentials vault.');

  keys
    .command('generate')
    .description('Print a new random key for PATCHBAY_ENCRYPTION_KEY (or a key file); stores nothing.')
    .action(() => {
      process.stdout.write(`${formatKey(generateKey())}\n`);
    });

  keys
    .command('list')
    .description('List the keys this database knows, with how many stored secrets each one encrypts.')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'print JSON')
    .action(async (o: GlobalOptions & { json?: boolean }) => {
      await withEngine(o, async (engine) => {
        const { vault } = engine.vault;
        const rows = await vault.keys.all();
        const columns = vault.encryptedColumns();
        const view = [];
        for (const row of rows) {
          let values = 0;
          for (const column of columns)
            values += await vault.keys.countWith(column, ciphertextPrefix(row.id));
          view.push({
            id: row.id,
            status: row.status,
            loaded: vault.keyring.has(row.id),
            values,
            createdAt: new Date(row.created_at).toISOString(),
          });
        }
        if (o.json) {
          process.stdout.write(
            `${JSON.stringify({ source: vault.source.description, keys: view }, null, 2)}\n`,
          );
          return;
        }
        process.stdout.write(`keys from ${vault.source.description}\n`);
        process.stdout.write(
          `${formatTable(
            ['ID', 'STATUS', 'LOADED', 'VALUES', 'CREATED'],
            view.map((k) => [k.id, k.status, k.loaded ? 'yes' : 'no', String(k.values), k.createdAt]),
          )}\n`,
        );
      });
    });

  keys
    .command('rotate')
    .description(
      'Make a new key primary and re-encrypt every stored secret under it, with progress; old keys are kept ' +
        'until it is done. With the generated key file a new key is added to it; with PATCHBAY_ENCRYPTION_KEY ' +
        '(or _FILE) the first key listed becomes primary. Safe to run while servers run, and to run again.',
    )
    .option('-c, --config <file>', 'config file')
    .option('--keep-old-keys', 'leave the old keys in the generated key file (to read old backups)')
    .option('--batch-size <n>', 'rows per query', '200')
    .action(async (o: GlobalOptions & { keepOldKeys?: boolean; batchSize: string }) => {
      const batchSize = Number(o.batchSize);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000)
        throw new CliError(`--batch-size must be an integer from 1 to 10000, got "${o.batchSize}"`);
      await withEngine(o, async (engine) => {
        const { vault, rotation } = engine.vault;
        const bar = progressBar('re-encrypting');
        try {
          const result = await rotation.rotate({
            batchSize,
            keepOldKeys: o.keepOldKeys === true,
            onProgress: (p) => bar.update(p.done, p.total),
          });
          bar.stop();
          process.stdout.write(
            `every stored secret is now encrypted with key ${result.keyId} (${result.reencrypted} re-encrypted)\n`,
          );
          if (result.retired.length > 0) {
            const hint =
              vault.source.kind === 'generated'
                ? o.keepOldKeys
                  ? 'they stay in the key file (--keep-old-keys)'
                  : 'they were removed from the key file'
                : `remove them from ${vault.source.description} when every process runs with the new key`;
            process.stdout.write(`retired ${result.retired.join(', ')}: ${hint}\n`);
          }
        } finally {
          bar.stop();
        }
      });
    });

  return keys;
}
