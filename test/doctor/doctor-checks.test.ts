import { describe, expect, it } from 'vitest';
import { auditConfig } from '../../src/cli/doctor/config-checks.js';
import { auditHistory } from '../../src/cli/doctor/history-checks.js';
import { providerHosts } from '../../src/cli/doctor/provider-hosts.js';
import { builtInConnectors } from '../../src/connectors/index.js';
import { literalSecretPaths } from '../../src/core/config/literal-secrets.js';
import { parseConfig } from '../../src/core/config/load.js';
import type { PatchbayConfigInput } from '../../src/core/config/schema.js';
import type { AuditHistory } from '../../src/store/audit-store.js';

const hosts = providerHosts(builtInConnectors);
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** The checks `auditConfig` raised for a config, each as `check subject`. */
function configFlags(input: PatchbayConfigInput, stored?: Partial<AuditHistory>): string[] {
  return auditConfig({
    config: parseConfig(input),
    literalSecrets: literalSecretPaths(input),
    stored: { sources: [], destinations: [], connections: [], ...stored },
    providerHosts: hosts,
  }).map((f) => `${f.check} ${f.subject}`);
}

const clean: PatchbayConfigInput = {
  sources: [{ id: 'gh', verify: { scheme: 'github', secrets: ['${GH_SECRET}'] } }],
  destinations: [{ id: 'app', url: 'https://app.example.com/hooks', secrets: ['${APP_SECRET}'] }],
  connections: [{ id: 'crm', provider: 'hubspot', auth: { scheme: 'bearer', token: '${HUBSPOT_TOKEN}' } }],
  delivery: { allowedNetworks: ['127.0.0.0/8', '::1/128'] },
};

const emptyHistory: AuditHistory = {
  sources: [],
  destinations: [],
  connections: [],
  eventsWithoutId: [],
  destination429s: [],
  signals: [],
};

describe('doctor checks', () => {
  it('raises nothing for a configuration written with references, defaults and a loopback allow-list', () => {
    // References interpolate to something valid here; only the raw text is audited for literals.
    expect(configFlags(clean)).toEqual([]);
    expect(auditHistory(emptyHistory)).toEqual([]);
  });

  it('inline-credential: a secret written in the file, never one written as ${ENV}', () => {
    expect(
      configFlags({
        server: { adminToken: 'a-token-of-sixteen-chars' },
        sources: [{ id: 'gh', verify: { scheme: 'github', secrets: ['${GH}', 'plain-secret'] } }],
        destinations: [
          {
            id: 'app',
            url: 'https://app.example.com/hooks',
            secrets: [SECRET],
            headers: { authorization: 'Bearer abc', 'x-tenant': 'acme' },
          },
        ],
        connections: [
          {
            id: 'crm',
            auth: { scheme: 'basic', username: 'me', password: 'pw' },
            baseUrl: 'https://x.example',
          },
        ],
        database: { url: 'postgres://patchbay:pw@db.internal/patchbay' },
      }),
    ).toEqual([
      'inline-credential server.adminToken',
      'inline-credential database.url',
      'inline-credential sources[0].verify.secrets[1]',
      'inline-credential destinations[0].secrets[0]',
      'inline-credential destinations[0].headers.authorization',
      'inline-credential connections[0].auth.password',
    ]);
    expect(literalSecretPaths({ database: { url: 'postgres://patchbay:${PW}@db/patchbay' } })).toEqual([]);
    expect(literalSecretPaths({ server: { adminToken: '$${NOT_A_REFERENCE}' } })).toEqual([
      'server.adminToken',
    ]);
    const mail = (password: string) => ({
      destinations: [
        {
          id: 'm',
          url: 'smtp://mail.example.com',
          email: { from: 'a@x.io', to: ['b@x.io'], username: 'u', password },
        },
      ],
    });
    expect(literalSecretPaths(mail('hunter2'))).toEqual(['destinations[0].email.password']);
    expect(literalSecretPaths(mail('${SMTP_PASSWORD}'))).toEqual([]);
  });

  it('retries-off: an empty retry schedule, not an explicit one', () => {
    expect(configFlags({ ...clean, delivery: { retrySchedule: [] } })).toEqual([
      'retries-off delivery.retrySchedule',
    ]);
    expect(configFlags({ ...clean, delivery: { retrySchedule: ['5s', '1m'] } })).toEqual([]);
  });

  it('breaker-off: a config or API destination with breaker false, not one with its own settings', () => {
    const destinations = [
      { id: 'off', url: 'https://a.example.com', secrets: ['${S}'], breaker: false as const },
      { id: 'tuned', url: 'https://b.example.com', secrets: ['${S}'], breaker: { consecutiveFailures: 3 } },
    ];
    expect(
      configFlags(
        { destinations },
        { destinations: [{ id: 'api-off', definition: { url: 'https://c.example.com', breaker: false } }] },
      ),
    ).toEqual(['breaker-off destinations[0] "off"', 'breaker-off destination "api-off" (API)']);
  });

  it('unsigned-source: scheme none in the file or through the API, not a signed one', () => {
    expect(
      configFlags(
        { sources: [{ id: 'lab', verify: { scheme: 'none', insecure: true } }] },
        {
          sources: [
            { id: 'api-lab', definition: { verify: { scheme: 'none', insecure: true } } },
            { id: 'ok', definition: { verify: { scheme: 'stripe' } } },
          ],
        },
      ),
    ).toEqual(['unsigned-source sources[0] "lab"', 'unsigned-source source "api-lab" (API)']);
  });

  it('rate-limit-profile: a custom connection to a known provider, not one to another host or with its provider', () => {
    const auth = { scheme: 'bearer' as const, token: '${T}' };
    expect(
      configFlags(
        {
          connections: [
            { id: 'hs', baseUrl: 'https://api.hubapi.com', auth },
            { id: 'own', baseUrl: 'https://api.internal.example', auth },
            { id: 'gh', provider: 'github', baseUrl: 'https://api.github.com', auth },
          ],
        },
        { connections: [{ id: 'stripe-raw', provider: 'custom', baseUrl: 'https://api.stripe.com/v1' }] },
      ),
    ).toEqual(['rate-limit-profile connections[0] "hs"', 'rate-limit-profile connection "stripe-raw" (API)']);
  });

  it('rate-limited: 429s of a destination or a connection in the last 24 h', () => {
    const flags = auditHistory({
      ...emptyHistory,
      destination429s: [{ destination: 'app', count: 3 }],
      signals: [{ kind: 'rate_limited', subject: 'connection:crm', count: 2, max: 429, lastAt: 0 }],
    }).map((f) => `${f.check} ${f.subject}: ${f.problem}`);
    expect(flags).toEqual([
      'rate-limited destination "app": 3 attempts answered 429 in the last 24 h',
      'rate-limited connection "crm": 2 calls answered 429 in the last 24 h',
    ]);
  });

  it('event-loop-blocked: a handler or transform measured over 50 ms, named', () => {
    const flags = auditHistory({
      ...emptyHistory,
      signals: [
        { kind: 'loop_block', subject: 'handler:slow', count: 4, max: 180, lastAt: 0 },
        { kind: 'loop_block', subject: 'transform:contacts', count: 1, max: 75, lastAt: 0 },
      ],
    });
    expect(flags.map((f) => `${f.check} ${f.subject}`)).toEqual([
      'event-loop-blocked handler "slow"',
      'event-loop-blocked transform "contacts"',
    ]);
    expect(flags[0]!.problem).toContain('180 ms');
  });

  it('no-dedupe-id: events a source received without an id', () => {
    const flags = auditHistory({ ...emptyHistory, eventsWithoutId: [{ source: 'lab', count: 12 }] });
    expect(flags.map((f) => `${f.check} ${f.subject}`)).toEqual(['no-dedupe-id source "lab"']);
    expect(flags[0]!.fix).toContain('idHeader');
  });

  it('long-timeout: timeouts over 60 s, not at 60 s', () => {
    expect(
      configFlags({
        destinations: [
          { id: 'slow', url: 'https://a.example.com', secrets: ['${S}'], timeout: '90s' },
          { id: 'fine', url: 'https://b.example.com', secrets: ['${S}'], timeout: '60s' },
        ],
        delivery: { timeout: '2m' },
        vault: { tokenTimeout: '61s' },
      }),
    ).toEqual([
      'long-timeout delivery.timeout',
      'long-timeout vault.tokenTimeout',
      'long-timeout destinations[0] "slow"',
    ]);
    expect(
      configFlags(
        {},
        {
          destinations: [{ id: 'api-slow', definition: { url: 'https://c.example.com', timeout: 120_000 } }],
        },
      ),
    ).toEqual(['long-timeout destination "api-slow" (API)']);
  });

  it('wide-allow-list: networks beyond loopback where plain http is allowed', () => {
    expect(
      configFlags({
        delivery: { allowedNetworks: ['127.0.0.1/32', '10.0.0.0/8'] },
        vault: { allowedNetworks: ['0.0.0.0/0'] },
      }),
    ).toEqual(['wide-allow-list delivery.allowedNetworks', 'wide-allow-list vault.allowedNetworks']);
    expect(configFlags({ delivery: { allowedNetworks: ['127.0.0.0/7'] } })).toEqual([
      'wide-allow-list delivery.allowedNetworks',
    ]);
  });

  it('admin-open: beyond loopback without a token, or behind a proxy without one; not with a token', () => {
    expect(configFlags({ server: { host: '0.0.0.0' } })).toEqual(['admin-open server.host']);
    expect(configFlags({ server: { trustProxy: true } })).toEqual(['admin-open server.trustProxy']);
    expect(configFlags({ server: { host: '0.0.0.0', adminToken: '${PATCHBAY_ADMIN_TOKEN}' } })).toEqual([]);
  });
});
