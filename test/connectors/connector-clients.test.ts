import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorClients } from '../../src/connectors/index.js';
import type { ConnectionInput } from '../../src/core/config/connections.js';
import { ErrorCode } from '../../src/core/errors.js';
import { MemoryRateLimitStore } from '../../src/resilience/rate-limit-store.js';
import { type ChaosUpstream, FakeClock, startChaosUpstream } from '../../src/testing/index.js';
import { type TestVault, vaultPerFile } from '../helpers/vault.js';
import { drive, rejection } from '../http/helpers.js';

let vault: TestVault;
let upstream: ChaosUpstream;
let clock: FakeClock;
let clients: ConnectorClients;

vaultPerFile((_, v) => {
  vault = v;
});
beforeEach(async () => {
  upstream = await startChaosUpstream();
  clock = new FakeClock(Date.parse('2026-06-01T12:00:00Z'));
  clients = new ConnectorClients({
    connections: vault.connections,
    auth: vault.resolver,
    rateLimits: new MemoryRateLimitStore(),
    clock,
    http: { timeoutMs: 600_000, deadlineMs: 600_000, retry: { budget: false } },
  });
});
afterEach(async () => {
  await clients.close();
  await upstream.close();
  for (const c of await vault.connections.list({ limit: 100 })) await vault.connections.delete(c.id);
});

const hubspot = (metadata?: Record<string, unknown>, id = 'crm'): ConnectionInput => ({
  id,
  provider: 'hubspot',
  baseUrl: upstream.url,
  auth: { scheme: 'bearer', token: 'pat-na1-0000' },
  ...(metadata && { metadata }),
});

/** Sends `count` calls at once and returns how long (fake time) they took. */
async function burst(connectionId: string, count: number): Promise<number> {
  const client = await clients.client(connectionId);
  const started = clock.now();
  await drive(
    clock,
    Promise.all(
      Array.from({ length: count }, (_, i) => client.request({ path: `/crm/v3/objects/contacts/${i}` })),
    ),
  );
  return clock.now() - started;
}

describe('a connection with provider: hubspot', () => {
  it('calls with its token, and its tier sets the pace', async () => {
    await vault.connections.create(hubspot());
    expect(await burst('crm', 100)).toBe(0);
    expect(upstream.requests[0]!.headers.authorization).toBe('Bearer pat-na1-0000');
    // The 101st of a starter account waits for the first slot to leave the 10 s window (+ its 250 ms margin).
    expect(await burst('crm', 1)).toBe(10_250);

    await vault.connections.create(hubspot({ tier: 'professional' }, 'pro'));
    expect(await burst('pro', 190)).toBe(0);
    expect(await burst('pro', 1)).toBe(10_250);
  });

  it('picks up a changed tier on the next call', async () => {
    await vault.connections.create(hubspot());
    await burst('crm', 100);
    await vault.connections.update('crm', { metadata: { tier: 'limit-increase' } });
    expect(await burst('crm', 150)).toBe(0);
  });

  it('stops every call until midnight in the account zone after a daily 429', async () => {
    await vault.connections.create(hubspot({ timeZone: 'America/New_York' }));
    upstream.script([
      {
        status: 429,
        body: {
          status: 'error',
          message: 'You have reached your daily limit.',
          errorType: 'RATE_LIMIT',
          policyName: 'DAILY',
        },
      },
    ]);
    const client = await clients.client('crm');
    const first = await rejection(client.request({ path: '/crm/v3/objects/contacts' }));
    // 12:00 UTC is 08:00 in New York: 16 h to the reset.
    expect(first).toMatchObject({ code: ErrorCode.RATE_LIMITED, retryAfterMs: 16 * 3_600_000 });
    expect(first.message).toMatch(/You have reached your daily limit\./);
    const second = await rejection(client.request({ path: '/crm/v3/objects/deals' }));
    expect(second).toMatchObject({ code: ErrorCode.RATE_LIMITED });
    expect(upstream.stats.requests).toBe(1);
  });

  it('refuses settings it does not know, naming the field', async () => {
    await vault.connections.create(hubspot({ tier: 'gold' }, 'a'));
    await expect(clients.client('a')).rejects.toMatchObject({
      code: ErrorCode.CONFIG_INVALID,
      message: expect.stringMatching(
        /^connections\.a\.metadata\.tier: must be one of "starter", "professional"/,
      ),
    });
    await vault.connections.create(hubspot({ timeZone: 'Nowhere/Else', tiers: 1 }, 'b'));
    const error = await rejection(clients.client('b'));
    expect(error.message).toMatch(/connections\.b\.metadata: HubSpot has no setting "tiers"/);
    expect(error.message).toMatch(/connections\.b\.metadata\.timeZone: must be an IANA time zone name/);
  });

  it('refuses a provider Patchbay does not know, and a custom connection without a base URL', async () => {
    await vault.connections.create({ ...hubspot(), id: 'typo', provider: 'hubsopt' });
    await expect(clients.client('typo')).rejects.toMatchObject({
      code: ErrorCode.CONFIG_INVALID,
      message: expect.stringMatching(/provider "hubsopt" is not one Patchbay knows \(custom, hubspot/),
    });
    await vault.connections.create({
      id: 'bare',
      provider: 'custom',
      auth: { scheme: 'bearer', token: 't' },
    });
    await expect(clients.client('bare')).rejects.toMatchObject({ code: ErrorCode.CONFIG_INVALID });
    await expect(clients.client('missing')).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
  });
});
