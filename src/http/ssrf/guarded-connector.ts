import type { Socket } from 'node:net';
import { buildConnector } from 'undici';
import { type Clock, systemClock } from '../../core/clock.js';
import { ErrorCode, errorMessage, isPatchbayError, PatchbayError } from '../../core/errors.js';
import { parseIp } from './ip-address.js';
import { type Resolver, systemResolver } from './resolver.js';
import { type SsrfOptions, SsrfPolicy } from './ssrf-policy.js';

/** undici's connector shape, restated so callers need no undici types. */
export type Connector = (options: buildConnector.Options, callback: buildConnector.Callback) => void;

export interface GuardedConnectorOptions extends SsrfOptions {
  /** Resolves DNS names. Defaults to the system resolver. */
  resolver?: Resolver;
  /** Longest wait for the resolver, in ms. Defaults to 10 s. */
  resolveTimeoutMs?: number;
  /** Makes the actual connection to a checked address. Defaults to undici's `buildConnector(connectOptions)`. */
  connect?: Connector;
  /** Options for the default connector (TLS `ca`, connect `timeout`, …). */
  connectOptions?: buildConnector.BuildOptions;
  /** For the resolve timeout. Defaults to the system clock. */
  clock?: Clock;
  /** A policy built elsewhere (wins over `allowedNetworks`/`allowInsecureHttp`). */
  policy?: SsrfPolicy;
}

const DEFAULT_RESOLVE_TIMEOUT_MS = 10_000;

/**
 * An undici connector that resolves the hostname once, refuses the connection if ANY resolved address is
 * blocked, and then connects to a checked address — never to the name — so a DNS answer that changes
 * between check and connect (rebinding) cannot slip through. TLS still verifies and sends SNI for the
 * original hostname, and the Host header is undici's, from the origin. Refusals are `PatchbayError`s
 * (`SSRF_BLOCKED`, `INSECURE_URL`, `NETWORK_ERROR`) passed to undici, which fails the request with them.
 */
export function createGuardedConnector(options: GuardedConnectorOptions = {}): Connector {
  const policy = options.policy ?? new SsrfPolicy(options);
  const resolver = options.resolver ?? systemResolver;
  const clock = options.clock ?? systemClock;
  const timeoutMs = options.resolveTimeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `resolveTimeoutMs must be a positive number of ms, got ${JSON.stringify(options.resolveTimeoutMs)}`,
    );
  }
  const connect: Connector = options.connect ?? buildConnector(options.connectOptions ?? {});

  return (connectOptions, callback) => {
    let called = false;
    const done = (err: Error | null, socket?: Socket) => {
      if (called) return;
      called = true;
      if (err) callback(err, null);
      else callback(null, socket!);
    };
    const { hostname, protocol } = connectOptions;
    resolveChecked(hostname, protocol)
      .then(async (addresses) => {
        let lastError: Error | undefined;
        // Addresses in resolver order, each already checked; the next is tried only if one fails to connect.
        for (const address of addresses) {
          try {
            const socket = await connectTo(address);
            return done(null, socket);
          } catch (err) {
            lastError = err as Error;
          }
        }
        done(lastError ?? new PatchbayError(ErrorCode.NETWORK_ERROR, `could not connect to ${hostname}`));
      })
      .catch((err: unknown) => done(err instanceof Error ? err : new Error(String(err))));

    function connectTo(address: string): Promise<Socket> {
      const literal = parseIp(hostname) !== undefined;
      return new Promise((resolve, reject) => {
        connect(
          {
            ...connectOptions,
            hostname: address,
            // SNI and certificate checks are for the name the user configured, not the address we dial.
            ...(!literal && { servername: connectOptions.servername || hostname }),
          },
          (err, socket) => (err ? reject(err) : resolve(socket as Socket)),
        );
      });
    }
  };

  async function resolveChecked(hostname: string, protocol: string): Promise<string[]> {
    let addresses: string[];
    if (parseIp(hostname)) {
      addresses = [hostname];
    } else {
      addresses = (await resolveWithTimeout(hostname)).map((a) => a.address);
      if (addresses.length === 0) {
        throw new PatchbayError(ErrorCode.NETWORK_ERROR, `${hostname} resolved to no address`);
      }
    }
    const verdicts = addresses.map((a) => policy.classify(a));
    const blocked = verdicts.find((v) => !v.allowed);
    if (blocked) {
      // One bad address blocks the name: a round-robin answer must not be a lottery ticket into the VPC.
      throw new PatchbayError(
        ErrorCode.SSRF_BLOCKED,
        `${hostname === blocked.address ? 'destination' : `${hostname} resolves to`} ${blocked.address}, which is blocked: ${blocked.reason}`,
        { data: { hostname, address: blocked.address } },
      );
    }
    if (protocol === 'http:' && !policy.allowInsecureHttp) {
      const outside = verdicts.find((v) => !v.inAllowedNetwork);
      if (outside) {
        throw new PatchbayError(
          ErrorCode.INSECURE_URL,
          `plain http to ${hostname} is refused: ${outside.address} is not inside allowedNetworks (use https)`,
        );
      }
    }
    return verdicts.map((v) => v.address);
  }

  async function resolveWithTimeout(hostname: string) {
    const controller = new AbortController();
    const timer = clock.sleep(timeoutMs, controller.signal).then(
      () => {
        throw new PatchbayError(
          ErrorCode.TIMEOUT,
          `DNS lookup of ${hostname} took longer than ${timeoutMs} ms`,
        );
      },
      () => undefined as never,
    );
    try {
      return await Promise.race([resolver(hostname, controller.signal), timer]);
    } catch (err) {
      if (isPatchbayError(err)) throw err;
      throw new PatchbayError(
        ErrorCode.NETWORK_ERROR,
        `DNS lookup of ${hostname} failed: ${errorMessage(err)}`,
        {
          cause: err,
        },
      );
    } finally {
      controller.abort();
    }
  }
}
