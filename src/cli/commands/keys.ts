import { Command } from 'commander';
import type { RotationResult } from '../../vault/key-rotation.js';
import { type AdminOptions, adminOptions, withAdminApi } from '../admin/admin-api.js';
import { progressBar } from '../progress.js';
import { formatTable } from '../table.js';
import { parseLimit, printJson } from '../values.js';

interface KeySource {
  kind: string;
  description: string;
}

interface KeyList {
  source: KeySource;
  keys: { id: string; status: string; loaded: boolean; values: number; createdAt: string }[];
}

export function keysCommand(): Command {
  const keys = new Command('keys').description('Manage the encryption keys of the credentials vault.');

  keys
    .command('generate')
    .description('Print a new random key for PATCHBAY_ENCRYPTION_KEY (or a key file); stores nothing.')
    .action(async () => {
      const { formatKey, generateKey } = await import('../../vault/key-material.js');
      process.stdout.write(`${formatKey(generateKey())}\n`);
    });

  adminOptions(
    keys
      .command('list')
      .description('List the keys this database knows, with how many stored secrets each one encrypts.'),
  )
    .option('--json', 'print JSON')
    .action(async (o: AdminOptions & { json?: boolean }) => {
      await withAdminApi(o, async (api) => {
        const list = await api.get<KeyList>('/keys');
        if (o.json) return printJson({ source: list.source.description, keys: list.keys });
        process.stdout.write(`keys from ${list.source.description}\n`);
        process.stdout.write(
          `${formatTable(
            ['ID', 'STATUS', 'LOADED', 'VALUES', 'CREATED'],
            list.keys.map((k) => [k.id, k.status, k.loaded ? 'yes' : 'no', String(k.values), k.createdAt]),
          )}\n`,
        );
      });
    });

  adminOptions(
    keys
      .command('rotate')
      .description(
        'Make a new key primary and re-encrypt every stored secret under it, with progress; old keys are kept ' +
          'until it is done. With the generated key file a new key is added to it; with PATCHBAY_ENCRYPTION_KEY ' +
          '(or _FILE) the first key listed becomes primary. Safe to run while servers run, and to run again. ' +
          'With --url, the instance rotates with the keys it holds.',
      ),
  )
    .option('--keep-old-keys', 'leave the old keys in the generated key file (to read old backups)')
    .option('--batch-size <n>', 'rows per query', '200')
    .action(async (o: AdminOptions & { keepOldKeys?: boolean; batchSize: string }) => {
      const batchSize = parseLimit(o.batchSize, 10_000, '--batch-size');
      await withAdminApi(o, async (api) => {
        const bar = progressBar('re-encrypting');
        try {
          const result = await api.withProgress<RotationResult & { source: KeySource }>(
            {
              method: 'POST',
              path: '/keys/rotate',
              body: { batchSize, keepOldKeys: o.keepOldKeys === true },
            },
            (done, total) => bar.update(done, total),
          );
          bar.stop();
          process.stdout.write(
            `every stored secret is now encrypted with key ${result.keyId} (${result.reencrypted} re-encrypted)\n`,
          );
          if (result.retired.length > 0) {
            const hint =
              result.source.kind === 'generated'
                ? o.keepOldKeys
                  ? 'they stay in the key file (--keep-old-keys)'
                  : 'they were removed from the key file'
                : `remove them from ${result.source.description} when every process runs with the new key`;
            process.stdout.write(`retired ${result.retired.join(', ')}: ${hint}\n`);
          }
        } finally {
          bar.stop();
        }
      });
    });

  return keys;
}
