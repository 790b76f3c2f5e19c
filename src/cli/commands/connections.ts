import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { SubscriptionView } from '../../connectors/subscription-view.js';
import { formatPath } from '../../core/config/format-path.js';
import { type InterpolationProblem, interpolate } from '../../core/config/interpolate.js';
import { errorMessage } from '../../core/errors.js';
import type { ConnectionView } from '../../vault/connection-model.js';
import { type AdminOptions, adminOptions, withAdminApi } from '../admin/admin-api.js';
import { CliError } from '../output.js';
import { formatTable } from '../table.js';
import { oneOf, parseLimit, printJson, printMore, seg } from '../values.js';

const STATUSES = ['active', 'needs_reauth', 'error'] as const;

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
async function readDefinitionFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${errorMessage(err)}`);
  }
  let raw: unknown;
  try {
    raw = path.endsWith('.json') ? JSON.parse(text) : (await import('yaml')).parse(text);
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

  adminOptions(connections.command('list').description('List connections with their status.'))
    .option('--status <status>', `only this status (${STATUSES.join(', ')})`)
    .option('--limit <n>', 'at most this many', '100')
    .option('--cursor <cursor>', 'continue after a previous page')
    .option('--json', 'print JSON')
    .action(async (o: AdminOptions & { status?: string; limit: string; cursor?: string; json?: boolean }) => {
      const status = oneOf(o.status, STATUSES, '--status');
      const limit = parseLimit(o.limit, 1000);
      await withAdminApi(o, async (api) => {
        const page = await api.list<ConnectionView>('/connections', { status }, limit, o.cursor);
        if (o.json) return printJson(page);
        process.stdout.write(
          `${formatTable(
            ['ID', 'PROVIDER', 'SCHEME', 'STATUS', 'EXPIRES', 'REASON'],
            page.data.map((c) => [
              c.id,
              c.provider,
              String(c.auth.scheme),
              c.status,
              c.credentials?.expiresAt ?? '',
              c.statusReason ?? '',
            ]),
          )}\n`,
        );
        printMore(page.nextCursor);
      });
    });

  adminOptions(
    connections.command('show').description('Show one connection (secrets masked).').argument('<id>'),
  ).action(async (id: string, o: AdminOptions) => {
    await withAdminApi(o, async (api) => printJson(await api.get<ConnectionView>(`/connections/${seg(id)}`)));
  });

  adminOptions(
    connections
      .command('add')
      .description(
        'Create a connection, from a JSON/YAML file (same shape as POST /api/v1/connections, environment ' +
          'references resolved) or from options. Secrets come from the environment (--secret field=ENV_VAR), never the command line.',
      )
      .argument('[id]', 'connection id (with --scheme)'),
  )
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
        o: AdminOptions & {
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
          input = await readDefinitionFile(o.file);
        } else {
          if (!id || !o.scheme) throw new CliError('give <id> and --scheme, or --file');
          input = {
            id,
            provider: o.provider,
            ...(o.baseUrl && { baseUrl: o.baseUrl }),
            auth: { scheme: o.scheme, ...parsePairs(o.set ?? [], '--set'), ...readSecrets(o.secret ?? []) },
          };
        }
        await withAdminApi(o, async (api) => {
          const connection = await api.post<ConnectionView>('/connections', input);
          const scheme = String(connection.auth.scheme);
          process.stdout.write(`${connection.id} created (${scheme}, ${connection.status})\n`);
          if (scheme === 'oauth2-authorization-code' && connection.status === 'needs_reauth') {
            process.stdout.write(`authorize it with: patchbay connections authorize ${connection.id}\n`);
          }
        });
      },
    );

  adminOptions(
    connections
      .command('update')
      .description('Change a connection: base URL, or auth fields merged into its current auth.')
      .argument('<id>'),
  )
    .option('--base-url <url>', 'new base URL')
    .option('--set <field=value>', 'a non-secret auth field (repeatable)', collect)
    .option(
      '--secret <field=ENV_VAR>',
      'a secret auth field read from an environment variable (repeatable)',
      collect,
    )
    .action(async (id: string, o: AdminOptions & { baseUrl?: string; set?: string[]; secret?: string[] }) => {
      const auth = { ...parsePairs(o.set ?? [], '--set'), ...readSecrets(o.secret ?? []) };
      if (!o.baseUrl && Object.keys(auth).length === 0)
        throw new CliError('nothing to change: give --base-url, --set or --secret');
      await withAdminApi(o, async (api) => {
        const connection = await api.patch<ConnectionView>(`/connections/${seg(id)}`, {
          ...(o.baseUrl && { baseUrl: o.baseUrl }),
          ...(Object.keys(auth).length > 0 && { auth }),
        });
        process.stdout.write(`${connection.id} updated (${connection.status})\n`);
      });
    });

  adminOptions(
    connections.command('remove').description('Delete a connection and its credentials.').argument('<id>'),
  ).action(async (id: string, o: AdminOptions) => {
    await withAdminApi(o, async (api) => {
      await api.delete(`/connections/${seg(id)}`);
      process.stdout.write(`${id} removed\n`);
    });
  });

  adminOptions(
    connections
      .command('authorize')
      .description('Print the link that authorizes an OAuth connection (open it in a browser; single use).')
      .argument('<id>'),
  )
    .option(
      '--redirect-url <url>',
      "the /oauth/callback URL registered with the provider (default: vault.oauthRedirectUrl, else the server's own)",
    )
    .option('--return-to <url>', 'where the callback sends the browser afterwards')
    .action(async (id: string, o: AdminOptions & { redirectUrl?: string; returnTo?: string }) => {
      await withAdminApi(o, async (api) => {
        const started = await api.get<{ url: string; redirectUri: string; expiresAt: string }>(
          `/connections/${seg(id)}/authorize`,
          { redirectUri: o.redirectUrl, returnTo: o.returnTo },
        );
        process.stdout.write(`${started.url}\n`);
        process.stderr.write(
          `open the link above; it is valid until ${started.expiresAt} and returns to ${started.redirectUri}\n`,
        );
      });
    });

  adminOptions(
    connections
      .command('refresh')
      .description('Obtain fresh credentials for an OAuth connection now (tests them).')
      .argument('<id>'),
  ).action(async (id: string, o: AdminOptions) => {
    await withAdminApi(o, async (api) => {
      const after = await api.post<ConnectionView>(`/connections/${seg(id)}/refresh`);
      const expiresAt = after.credentials?.expiresAt ?? null;
      process.stdout.write(
        `${id} refreshed; the access token expires ${expiresAt === null ? 'never (as far as the provider said)' : expiresAt}\n`,
      );
    });
  });

  adminOptions(
    connections
      .command('subscriptions')
      .description(
        "Show the Graph change-notification subscriptions a connection keeps for its syncs' folders (expiry, last renewal, problem).",
      )
      .argument('<id>')
      .option('--json', 'print JSON'),
  ).action(async (id: string, o: AdminOptions & { json?: boolean }) => {
    await withAdminApi(o, async (api) => {
      const { data } = await api.get<{ data: SubscriptionView[] }>(`/connections/${seg(id)}/subscriptions`);
      if (o.json) return printJson({ data });
      if (data.length === 0) {
        process.stdout.write(
          `${id} keeps no subscriptions (no msgraph.messages sync of it sets options.notify)\n`,
        );
        return;
      }
      process.stdout.write(
        `${formatTable(
          ['SYNC', 'SOURCE', 'SUBSCRIPTION', 'EXPIRES', 'RENEWED', 'PROBLEM'],
          data.map((s) => [
            s.syncId,
            s.source,
            s.subscriptionId ?? '',
            s.expiresAt ?? '',
            s.renewedAt ?? '',
            s.problem ?? '',
          ]),
        )}\n`,
      );
    });
  });

  return connections;
}
