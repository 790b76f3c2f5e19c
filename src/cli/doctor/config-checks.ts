import { isLoopbackHost } from '../../core/api/admin-exposure.js';
import type { PatchbayConfig } from '../../core/config/schema.js';
import type { AuditHistory } from '../../store/audit-store.js';
import type { Finding } from './finding.js';

/** Longer than this, a timeout holds a worker slot (and the caller) past any sender's patience. */
export const LONG_TIMEOUT_MS = 60_000;

export interface ConfigAuditInput {
  config: PatchbayConfig;
  /** Paths of secrets written inline (`LoadedConfig.literalSecrets`); undefined when unknown (`.js`). */
  literalSecrets: readonly string[] | undefined;
  /** Sources, destinations and connections made through the API (from the store), when it was read. */
  stored?: Pick<AuditHistory, 'sources' | 'destinations' | 'connections'>;
  /** Host of each known provider's API → its `provider:` id. */
  providerHosts: ReadonlyMap<string, string>;
}

/** The red flags in the configuration and the objects made through the API, as pure data. */
export function auditConfig(input: ConfigAuditInput): Finding[] {
  const { config } = input;
  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f);

  for (const path of input.literalSecrets ?? []) {
    add({
      check: 'inline-credential',
      severity: 'error',
      subject: path,
      problem: 'a credential is written in the config file (it ends up in version control and backups)',
      fix: `write a reference such as "\${MY_SECRET}" and set the variable, or create the object through the API (its secrets are sealed in the vault)`,
    });
  }

  if (config.delivery.retrySchedule?.length === 0) {
    add({
      check: 'retries-off',
      severity: 'warning',
      subject: 'delivery.retrySchedule',
      problem: 'the retry schedule is empty: a delivery that fails once is dead-lettered',
      fix: 'remove delivery.retrySchedule for the default (5s, 5m, 30m, 2h, 5h, 10h, 10h) or list delays',
    });
  }
  if (config.delivery.timeout !== undefined && config.delivery.timeout > LONG_TIMEOUT_MS)
    add(longTimeout('delivery.timeout', config.delivery.timeout));
  if (config.vault.tokenTimeout > LONG_TIMEOUT_MS)
    add(longTimeout('vault.tokenTimeout', config.vault.tokenTimeout));

  const destinations = [
    ...config.destinations.map((d, i) => ({ at: `destinations[${i}] "${d.id}"`, d })),
    ...(input.stored?.destinations ?? []).map((s) => ({
      at: `destination "${s.id}" (API)`,
      d: s.definition as { breaker?: unknown; timeout?: unknown },
    })),
  ];
  for (const { at, d } of destinations) {
    if (d.breaker === false) {
      add({
        check: 'breaker-off',
        severity: 'warning',
        subject: at,
        problem: 'its circuit breaker is off: while it is down, every attempt waits for its timeout',
        fix: 'remove "breaker: false" (the default opens at 50 % failures over 30 s)',
      });
    }
    if (typeof d.timeout === 'number' && d.timeout > LONG_TIMEOUT_MS) add(longTimeout(at, d.timeout));
  }

  const sources = [
    ...config.sources.map((s, i) => ({ at: `sources[${i}] "${s.id}"`, scheme: s.verify.scheme })),
    ...(input.stored?.sources ?? []).map((s) => ({
      at: `source "${s.id}" (API)`,
      scheme: (s.definition.verify as { scheme?: string } | undefined)?.scheme,
    })),
  ];
  for (const { at, scheme } of sources) {
    if (scheme === 'none') {
      add({
        check: 'unsigned-source',
        severity: 'warning',
        subject: at,
        problem: 'scheme "none": anyone who knows the URL can post events',
        fix: "use the sender's signature scheme, or hmac-sha256 with a shared secret",
      });
    }
  }

  const connections = [
    ...config.connections.map((c, i) => ({ at: `connections[${i}] "${c.id}"`, c })),
    ...(input.stored?.connections ?? [])
      .filter((c) => !config.connections.some((own) => own.id === c.id))
      .map((c) => ({ at: `connection "${c.id}" (API)`, c })),
  ];
  for (const { at, c } of connections) {
    if (c.provider !== 'custom' || !c.baseUrl) continue;
    const known = input.providerHosts.get(hostOf(c.baseUrl));
    if (known) {
      add({
        check: 'rate-limit-profile',
        severity: 'warning',
        subject: at,
        problem: `it calls ${known}'s API as "custom": without the provider's rate-limit profile, its limits are found by 429s`,
        fix: `set provider: ${known} (its published limits, error reading and pages come with it)`,
      });
    }
  }

  for (const [path, networks] of [
    ['delivery.allowedNetworks', config.delivery.allowedNetworks],
    ['vault.allowedNetworks', config.vault.allowedNetworks],
  ] as const) {
    const wide = networks.filter((n) => !isLoopbackNetwork(n));
    if (wide.length > 0) {
      add({
        check: 'wide-allow-list',
        severity: 'warning',
        subject: path,
        problem: `${wide.join(', ')} beyond loopback: plain http and private addresses are allowed there`,
        fix: 'narrow it to the hosts that need it (a /32), or serve them over https on public addresses',
      });
    }
  }

  const { host, adminToken, trustProxy } = config.server;
  if (!adminToken && !isLoopbackHost(host)) {
    add({
      check: 'admin-open',
      severity: 'error',
      subject: 'server.host',
      problem: `the admin API would listen on ${host} without an admin token (start refuses)`,
      fix: 'set PATCHBAY_ADMIN_TOKEN (16+ characters) or bind to 127.0.0.1',
    });
  } else if (!adminToken && trustProxy) {
    add({
      check: 'admin-open',
      severity: 'error',
      subject: 'server.trustProxy',
      problem: 'no admin token behind a reverse proxy: whoever reaches the proxy reaches the admin API',
      fix: 'set PATCHBAY_ADMIN_TOKEN (16+ characters)',
    });
  }
  return findings;
}

function longTimeout(subject: string, ms: number): Finding {
  return {
    check: 'long-timeout',
    severity: 'warning',
    subject,
    problem: `timeout ${Math.round(ms / 1000)} s is over ${LONG_TIMEOUT_MS / 1000} s: a hung peer holds a worker that long`,
    fix: 'use a timeout under 60 s; a slow peer should answer 202 and call back',
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return '';
  }
}

/** 127.0.0.0/8 or narrower, ::1. */
export function isLoopbackNetwork(cidr: string): boolean {
  const [address = '', bits] = cidr.trim().split('/');
  const prefix = bits === undefined ? undefined : Number(bits);
  if (address === '::1') return prefix === undefined || prefix >= 128;
  return /^127\.\d+\.\d+\.\d+$/.test(address) && (prefix === undefined || prefix >= 8);
}
