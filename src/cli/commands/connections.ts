import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { decodeCursor, encodeCursor } from '../../core/api/pagination.js';
import { formatPath } from '../../core/config/index.js';
import { type InterpolationProblem, interpolate } from '../../core/config/interpolate.js';
import { errorMessage } from '../../core/errors.js';
import type { ConnectionStatus } from '../../store/schema.js';
import { connectionView } from '../../vault/index.js';
import { type GlobalOptions, withEngine } from '../lifecycle.js';
import { CliError } from '../output.js';
import { formatTable } from '../table.js';

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
const STATUSES = ['active', 'needs_reauth', 'error'];

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `field=value` pairs; values that look like JSON (numbers, arrays, objects, booleans) are parsed. */
function parsePairs(pairs: string[], what: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`${what} takes field=value, got "${pair.split('=')[0]}…"`);
    const field = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    if (/^[[{]/.test(raw) || raw === 'true' || raw === 'false') {
      try {
        value = JSON.parse(raw);
      } catch {
        throw new CliError(`${what} ${field}: the value is not valid JSON`);
      }
    }
    out[field] = value;
  }
  return out;
}

/**
 * `--secret field=ENV_VAR`: the secret is read from the environment, never from the command line
 * (which `ps` and shell history would show).
 */
function readSecrets(pairs: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--secret takes field=ENV_VAR, got "${pair}"`);
    const field = pair.slice(0, eq);
    const name = pair.slice(eq + 1);
    const value = process.env[name];
    if (!value) throw new CliError(`--secret ${field}: environment variable ${name} is not set`);
    out[field] = value;
  }
  return out;
}

/** A connection definition from a JSON or YAML file, with `${ENV}` references resolved. */
function readDefinitionFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${errorMessage(err)}`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new CliError(`cannot parse ${path}: ${errorMessage(err).split('\n')[0]}`);
  }
  const problems: InterpolationProblem[] = [];
  const value = interpolate(raw, process.env, problems);
  if (problems.length > 0) {
    throw new CliError(problems.map((p) => `${path}: ${formatPath(p.path)}: ${p.message}`).join('\n'));
  }
  return value;
}

export function connectionsCommand(): Command {
  const connections = new Command('connections').description(
    'Manage connections to third-party APIs and their credentials (secrets are encrypted, never shown).',
  );

  connections
    .command('list')
    .description('List connections with their status.')
    .option('-c, --config <file>', 'config file')
    .option('--status <status>', `only this status (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '100')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print JSON')
    .action(
      async (o: GlobalOptions & { status?: string; limit: string; cursor?: string; json?: boolean }) => {
        if (o.status !== undefined && !STATUSES.includes(o.status))
          throw new CliError(`--status must be one of ${STATUSES.join(', ')}, got "${o.status}"`);
        const limit = Number(o.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          throw new CliError(`--limit must be an integer from 1 to 1000, got "${o.limit}"`);
        const after = decodeCursor(o.cursor);
        await withEngine(o, async (engine) => {
          const rows = await engine.vault.connections.list({
            limit: limit + 1,
            ...(after !== undefined && { after }),
            ...(o.status !== undefined && { status: o.status as ConnectionStatus }),
          });
          const page = rows.slice(0, limit).map(connectionView);
          const next = rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : undefined;
          if (o.json) return print({ data: page, ...(next && { nextCursor: next }) });
          process.stdout.write(
            `${formatTable(
              ['ID', 'PROVIDER', 'SCHEME', 'STATUS', 'EXPIRES', 'REASON'],
              page.map((c) => [
                c.id,
                c.provider,
                String(c.auth.scheme),
                c.status,
                c.credentials?.expiresAt ?? '',
                c.statusReason ?? '',
              ]),
            )}\n`,
          );
          if (next) process.stdout.write(`(more: --cursor ${next})\n`);
        });
      },
    );

  connections
    .command('show')
    .description('Show one connection (secrets masked).')
    .argument('<id>')
    .option('-c, --config <file>', 'config file')
    .action(async (id: string, o: GlobalOptions) => {
      await withEngine(o, async (engine) =>
        print(connectionView(await engine.vault.connections.require(id))),
      );
    });

  connections
    .command('add')
    .description(
      'Create a connection, from a JSON/YAML file (same shape as POST /api/v1/connections, environment ' +
        'references resolved) or from options. Secrets come from the environment (--secret field=ENV_VAR), never the command line.',
    )
    .argument('[id]', 'connection id (with --scheme)')
    .option('-c, --config <file>', 'config file')
    .option('-f, --file <file>', 'connection definition (JSON or YAML)')
    .option(
      '--scheme <scheme>',
      'bearer, api-key, basic, oauth2-client-credentials, oauth2-authorization-code',
    )
    .option('--provider <name>', 'provider name', 'custom')
    .option('--base-url <url>', 'base URL of the API')
    .option('--set <field=value>', 'a non-secret auth field (repeatable), e.g. --set clientId=abc', collect)
    .option(
      '--secret <field=ENV_VAR>',
      'a secret auth field read from an environment variable (repeatable)',
      collect,
    )
    .action(
      async (
        id: string | undefined,
        o: GlobalOptions & {
          file?: string;
          scheme?: string;
          provider: string;
          baseUrl?: string;
          set?: string[];
          secret?: string[];
        },
      ) => {
        let input: unknown;
        if (o.file) {
          if (id || o.scheme) throw new CliError('give either --file or <id> with --scheme, not both');
          input = readDefinitionFile(o.file);
        } else {
          if (!id || !o.scheme) throw new CliError('give <id> and --scheme, or --file');
          input = {
            id,
            provider: o.provider,
            ...(o.baseUrl && { baseUrl: o.baseUrl }),
            auth: { scheme: o.scheme, ...parsePairs(o.set ?? [], '--set'), ...readSecrets(o.secret ?? []) },
          };
        }
        await withEngine(o, async (engine) => {
          const connection = await engine.vault.connections.create(input as never, 'api');
          process.stdout.write(`${connection.id} created (${connection.scheme}, ${connection.status})\n`);
          if (connection.scheme === 'oauth2-authorization-code' && connection.status === 'needs_reauth') {
            process.stdout.write(`authorize it with: patchbay connections authorize ${connection.id}\n`);
          }
        });
      },
    );

  connections
    .command('update')
    .description('Change a connection: base URL, or auth fields merged into its current auth.')
    .argument('<id>')
    .option('-c, --config <file>', 'config file')
    .option('--base-url <url>', 'new base URL')
    .option('--set <field=value>', 'a non-secret auth field (repeatable)', collect)
    .option(
      '--secret <field=ENV_VAR>',
      'a secret auth field read from an environment variable (repeatable)',
      collect,
    )
    .action(
      async (id: string, o: GlobalOptions & { baseUrl?: string; set?: string[]; secret?: string[] }) => {
        const auth = { ...parsePairs(o.set ?? [], '--set'), ...readSecrets(o.secret ?? []) };
        if (!o.baseUrl && Object.keys(auth).length === 0)
          throw new CliError('nothing to change: give --base-url, --set or --secret');
        await withEngine(o, async (engine) => {
          const connection = await engine.vault.connections.update(id, {
            ...(o.baseUrl && { baseUrl: o.baseUrl }),
            ...(Object.keys(auth).length > 0 && { auth }),
          });
          process.stdout.write(`${connection.id} updated (${connection.status})\n`);
        });
      },
    );

  connections
    .command('remove')
    .description('Delete a connection and its credentials.')
    .argument('<id>')
    .option('-c, --config <file>', 'config file')
    .action(async (id: string, o: GlobalOptions) => {
      await withEngine(o, async (engine) => {
        await engine.vault.connections.delete(id);
        process.stdout.write(`${id} removed\n`);
      });
    });

  connections
    .command('authorize')
    .description('Print the link that authorizes an OAuth connection (open it in a browser; single use).')
    .argument('<id>')
    .option('-c, --config <file>', 'config file')
    .option(
      '--redirect-url <url>',
      'the /oauth/callback URL registered with the provider (default: vault.oauthRedirectUrl)',
    )
    .option('--return-to <url>', 'where the callback sends the browser afterwards')
    .action(async (id: string, o: GlobalOptions & { redirectUrl?: string; returnTo?: string }) => {
      await withEngine(o, async (engine) => {
        const started = await engine.vault.authorization.start(
          id,
          {
            redirectUri:
              o.redirectUrl ??
              `http://${engine.config.server.host}:${engine.config.server.port}/oauth/callback`,
            ...(o.returnTo && { returnTo: o.returnTo }),
          },
          AbortSignal.timeout(15_000),
        );
        process.stdout.write(`${started.url}\n`);
        process.stderr.write(
          `open the link above; it is valid until ${new Date(started.expiresAt).toISOString()} and returns to ${started.redirectUri}\n`,
        );
      });
    });

  connections
    .command('refresh')
    .description('Obtain fresh credentials for an OAuth connection now (tests them).')
    .argument('<id>')
    .option('-c, --config <file>', 'config file')
    .action(async (id: string, o: GlobalOptions) => {
      await withEngine(o, async (engine) => {
        const connection = await engine.vault.connections.require(id);
        if (!connection.scheme.startsWith('oauth2-'))
          throw new CliError(`connection ${id} uses ${connection.scheme}: nothing to refresh`);
        await engine.vault.refresh.forceRefresh(id, connection.version, AbortSignal.timeout(30_000));
        const after = await engine.vault.connections.require(id);
        process.stdout.write(
          `${id} refreshed; the access token expires ${after.expiresAt === null ? 'never (as far as the provider said)' : new Date(after.expiresAt).toISOString()}\n`,
        );
      });
    });

  return connections;
}
