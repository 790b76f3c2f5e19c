import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningFake } from '../../src/connectors/fake-kit/index.js';
import { builtInConnectors, ConnectorClients } from '../../src/connectors/index.js';
import type { ConnectionInput } from '../../src/core/config/connections.js';
import { MemoryRateLimitStore } from '../../src/resilience/rate-limit-store.js';
import type { Database } from '../../src/store/database.js';
import {
  startFinaleFake,
  startGitHubFake,
  startHubSpotFake,
  startMsGraphFake,
  startOpenAIFake,
  startSendGridFake,
  startStripeFake,
} from '../../src/testing/index.js';
import { dialects, migratedDatabase } from '../helpers/databases.js';
import { openTestVault, type TestVault } from '../helpers/vault.js';
import { rejection } from '../http/helpers.js';
import { graphConnection } from './msgraph/connection.js';

/** Per provider: its fake, a connection with a credential the fake accepts, and one it refuses. */
type Catalogued = (id: string) => Promise<{ fake: RunningFake; good: ConnectionInput; bad: ConnectionInput }>;
const bearer = (provider: string, url: string, id: string, token: string): ConnectionInput => ({
  id,
  provider,
  baseUrl: url,
  auth: { scheme: 'bearer', token },
});
const both = (fake: RunningFake, provider: string, good: string, bad: string, id: string) => ({
  fake,
  good: bearer(provider, fake.url, `${id}-good`, good),
  bad: bearer(provider, fake.url, `${id}-bad`, bad),
});
const FAKES: Record<string, Catalogued> = {
  finale: async (id) => {
    const fake = await startFinaleFake();
    const basic = (suffix: string, password: string): ConnectionInput => ({
      id: `${id}-${suffix}`,
      provider: 'finale',
      baseUrl: `${fake.url}/${fake.account}/api`,
      auth: { scheme: 'basic', username: 'fake-api-key', password },
      metadata: { account: fake.account },
    });
    return { fake, good: basic('good', 'fake-api-secret'), bad: basic('bad', 'wrong-secret') };
  },
  github: async (id) => both(await startGitHubFake(), 'github', `ghp_${'a'.repeat(36)}`, 'not-a-token', id),
  hubspot: async (id) =>
    both(await startHubSpotFake({ token: 'pat-na1-good' }), 'hubspot', 'pat-na1-good', 'pat-na1-bad', id),
  msgraph: async (id) => {
    const fake = await startMsGraphFake({ https: false });
    return {
      fake,
      good: graphConnection(fake, `${id}-good`),
      bad: graphConnection(fake, `${id}-bad`, 'not-the-secret'),
    };
  },
  openai: async (id) => {
    const fake = await startOpenAIFake({ apiKey: 'sk-good' });
    return {
      fake,
      good: bearer('openai', fake.baseURL, `${id}-good`, 'sk-good'),
      bad: bearer('openai', fake.baseURL, `${id}-bad`, 'sk-bad'),
    };
  },
  sendgrid: async (id) =>
    both(await startSendGridFake({ apiKey: 'SG.good.key' }), 'sendgrid', 'SG.good.key', 'SG.bad.key', id),
  stripe: async (id) => both(await startStripeFake(), 'stripe', 'sk_test_good', 'sk_live_refused', id),
};
/** Settings a provider needs beyond its defaults. */
const SETTINGS: Record<string, Record<string, unknown>> = {
  finale: { account: 'acme' },
  msgraph: { tenantId: 'contoso.onmicrosoft.com' },
};

let database: Database;
let cleanup: () => Promise<void>;
let vault: TestVault;
let clients: ConnectorClients;
beforeAll(async () => {
  ({ database, cleanup } = await migratedDatabase(dialects[0]!));
  vault = await openTestVault(database);
  clients = new ConnectorClients({
    connections: vault.connections,
    auth: vault.resolver,
    rateLimits: new MemoryRateLimitStore(),
  });
});
afterAll(async () => {
  await clients?.close();
  await cleanup?.();
});

describe.each([...builtInConnectors.values()].map((c) => ({ id: c.definition.id, connector: c })))(
  'the $id provider definition',
  ({ id, connector }) => {
    const { definition } = connector;

    it('parses its settings, names its limits uniquely, and has its guide', () => {
      const settings = definition.settings.parse(SETTINGS[id] ?? {});
      expect(definition.id).toMatch(/^[a-z][a-z0-9-]*$/);
      expect(new URL(definition.baseUrl(settings)).protocol).toBe('https:');
      expect(new URL(definition.docsUrl).protocol).toBe('https:');
      expect(definition.auth.length).toBeGreaterThan(0);
      for (const auth of definition.auth) {
        const keys = definition.rateLimits(settings, { scheme: auth.scheme }).map((l) => l.key);
        expect(new Set(keys).size, `${id} limit keys`).toBe(keys.length);
      }
      expect(existsSync(new URL(`../../${definition.guide}`, import.meta.url)), definition.guide).toBe(true);
      expect(definition.check, `${id} names a check`).toBeDefined();
    });

    it('its fake answers its check with a good credential and refuses a bad one', async () => {
      const make = FAKES[id];
      expect(make, `a fake for ${id} in this test`).toBeDefined();
      const { fake, good, bad } = await make!(id);
      try {
        await vault.connections.create(good);
        await vault.connections.create(bad);
        const passed = await clients.check(good.id);
        expect(passed.status).toBeGreaterThanOrEqual(200);
        expect(passed.status).toBeLessThan(300);
        const refused = await rejection(clients.check(bad.id));
        expect(refused.message).toMatch(/40[13]|invalid_client|AADSTS|token/i);
      } finally {
        await fake.close();
      }
    }, 60_000);
  },
);

it('a connection without a provider check says so', async () => {
  await vault.connections.create({
    id: 'plain',
    provider: 'custom',
    baseUrl: 'https://api.example.com',
    auth: { scheme: 'bearer', token: 't' },
  });
  await expect(clients.check('plain')).rejects.toThrow(/connection "plain" has no provider check/);
});
