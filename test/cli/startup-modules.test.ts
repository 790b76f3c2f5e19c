import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, tempDir } from '../helpers/cli.js';

/**
 * What a command pays for at start-up, counted by module-loading hooks (ES modules and CommonJS):
 * `--help` loads commander and the command files only; a local `events list` builds the engine and
 * the app, but none of the connectors, the tracing SDK or the parsers only some configs need — each is
 * imported when a connection, a sync, the environment or a file names it. (YAML is loaded all the same:
 * @fastify/swagger, which builds the app's OpenAPI document, requires it.)
 */
const HOOKS = new URL('../fixtures/module-log/', import.meta.url).pathname;

async function modulesOf(args: string[], config?: object): Promise<string[]> {
  const cwd = tempDir();
  if (config) writeFileSync(join(cwd, 'patchbay.config.json'), JSON.stringify(config));
  const log = join(cwd, 'modules.log');
  const result = await runCli(args, {
    cwd,
    env: {
      MODULE_LOG: log,
      NODE_OPTIONS: `--import ${join(HOOKS, 'esm.mjs')} --require ${join(HOOKS, 'cjs.cjs')}`,
    },
    timeoutMs: 60_000,
  });
  expect(result.code, result.stderr).toBe(0);
  return readFileSync(log, 'utf8').split('\n').filter(Boolean);
}

describe('CLI start-up', { timeout: 120_000 }, () => {
  it('loads a few dozen modules for --help', async () => {
    const modules = await modulesOf(['--help']);
    // 47 when written (35 ES modules, 12 CommonJS); 146 before yaml and cli-progress were deferred.
    expect(modules.length).toBeLessThan(80);
    expect(modules.filter((m) => m.includes('/dist/engine/') || m.includes('/dist/server/'))).toEqual([]);
  });

  it('loads no connector, tracing SDK, XML or CSV parser for a local events list', async () => {
    const modules = await modulesOf(['events', 'list']);
    expect(modules.some((m) => m.includes('/dist/engine/engine.js'))).toBe(true);
    const deferred = modules.filter(
      (m) =>
        /\/dist\/connectors\/[a-z]+\/|@opentelemetry\/(sdk-|exporter-|resources)|node_modules\/(fast-xml-parser|csv-parse|cli-progress)\//.test(
          m,
        ) &&
        // `patchbay fake hubspot --help` lists HubSpot's tiers: its limits table, one small module.
        !m.endsWith('/dist/connectors/hubspot/limits.js'),
    );
    expect(deferred).toEqual([]);
  });

  it('loads the Graph subscriptions module only for a config with a sync that notifies', async () => {
    const graph = (options: object) => ({
      sources: [
        {
          id: 'graph',
          verify: {
            scheme: 'msgraph',
            secrets: ['client-state'],
            publicUrl: 'https://example.com/webhooks/graph',
          },
        },
      ],
      connections: [
        {
          id: 'mail',
          provider: 'msgraph',
          auth: {
            scheme: 'oauth2-client-credentials',
            tokenUrl: 'https://login.microsoftonline.com/t/oauth2/v2.0/token',
            clientId: 'app',
            clientSecret: 'secret',
            scopes: ['https://graph.microsoft.com/.default'],
          },
          metadata: { tenantId: 't' },
        },
      ],
      syncs: [{ id: 'inbox', connection: 'mail', model: 'msgraph.messages', options }],
    });
    const loaded = (modules: string[], file: string) =>
      modules.some((m) => m.endsWith(`/dist/connectors/${file}`));
    // Read on a schedule: Graph's connector is loaded for the model, its subscriptions module is not.
    const scheduled = await modulesOf(
      ['events', 'list'],
      graph({ mailbox: 'adele@contoso.com', folder: 'inbox' }),
    );
    expect(loaded(scheduled, 'msgraph/connector.js')).toBe(true);
    expect(loaded(scheduled, 'msgraph/subscriptions-module.js')).toBe(false);
    expect(loaded(scheduled, 'msgraph/subscription-manager.js')).toBe(false);
    const notified = await modulesOf(
      ['events', 'list'],
      graph({ mailbox: 'adele@contoso.com', folder: 'inbox', notify: 'graph' }),
    );
    expect(loaded(notified, 'msgraph/subscriptions-module.js')).toBe(true);
  });

  it('loads no Graph module for a config of other connectors', async () => {
    const modules = await modulesOf(['events', 'list'], {
      sources: [{ id: 'gh', verify: { scheme: 'github', secrets: ['s'] } }],
      connections: [{ id: 'crm', provider: 'hubspot', auth: { scheme: 'bearer', token: 't' } }],
      syncs: [{ id: 'contacts', connection: 'crm', model: 'hubspot.contacts' }],
    });
    expect(modules.some((m) => m.endsWith('/dist/connectors/hubspot/connector.js'))).toBe(true);
    expect(modules.filter((m) => m.includes('/dist/connectors/msgraph/'))).toEqual([]);
  });
});
