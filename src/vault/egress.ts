import type { Dispatcher } from 'undici';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { createGuardedAgent } from '../http/ssrf/guarded-agent.js';
import type { Connector } from '../http/ssrf/guarded-connector.js';
import { parseIp } from '../http/ssrf/ip-address.js';
import type { Resolver } from '../http/ssrf/resolver.js';
import { SsrfPolicy } from '../http/ssrf/ssrf-policy.js';

/** Loopback, opened by `allowInsecureLoopback` (a local OAuth server or fake is on this machine). */
export const LOOPBACK_NETWORKS: readonly string[] = ['127.0.0.0/8', '::1/128'];

export interface EgressOptions {
  /**
   * CIDR networks OAuth endpoints and connections' APIs may reach despite the SSRF block list (an
   * identity server or an API inside your network). Defaults to none.
   */
  allowedNetworks?: readonly string[];
  /** Also allow loopback addresses (and plain http to them): local test servers. Defaults to false. */
  allowLoopback?: boolean;
  /** Resolves names at connect time. Defaults to the system's DNS. */
  resolver?: Resolver;
  /** Makes the connection to a checked address. Defaults to undici's connector. */
  connect?: Connector;
}

/**
 * Everything the vault and connections dial — discovery, token endpoints, a connection's own API — goes
 * through the same SSRF rule as deliveries (docs/ssrf.md): the URL's literal address checked when it is
 * configured, every resolved address checked at connect time, the socket opened to the checked address.
 */
export class Egress {
  readonly policy: SsrfPolicy;
  /** An undici Agent whose every connection passes the guard. */
  readonly dispatcher: Dispatcher;

  constructor(options: EgressOptions = {}) {
    this.policy = new SsrfPolicy({
      allowedNetworks: [
        ...(options.allowedNetworks ?? []),
        ...(options.allowLoopback ? LOOPBACK_NETWORKS : []),
      ],
    });
    this.dispatcher = createGuardedAgent({
      policy: this.policy,
      ...(options.resolver && { resolver: options.resolver }),
      ...(options.connect && { connect: options.connect }),
      // The guard sees every new connection; idle ones are not kept long.
      agentOptions: { keepAliveTimeout: 10_000 },
    });
  }

  /**
   * Refuses, naming `what`, a URL whose host is an IP literal the rule blocks (`https://169.254.169.254/…`),
   * so a connection is refused when it is made, not at its first call. Names are checked when dialled.
   */
  checkUrl(what: string, value: string | URL | undefined): void {
    if (value === undefined) return;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return; // the schema names a malformed URL
    }
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!parseIp(host)) return;
    const verdict = this.policy.classify(host);
    if (!verdict.allowed) {
      throw new PatchbayError(
        ErrorCode.SSRF_BLOCKED,
        `${what} ${verdict.address} is blocked: ${verdict.reason} (allow it with vault.allowedNetworks${
          verdict.reason?.startsWith('loopback')
            ? ', or vault.allowInsecureLoopback for a local test server'
            : ''
        })`,
        { data: { address: verdict.address } },
      );
    }
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}
