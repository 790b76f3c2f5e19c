import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { findBlockedRange } from './blocked-ranges.js';
import { type Cidr, cidrContains, parseCidrList } from './cidr.js';
import { formatIp, type IpAddress, ipv4, parseIp } from './ip-address.js';

export interface SsrfOptions {
  /**
   * CIDR networks destinations may reach despite the block list (an internal service, a test receiver on
   * 127.0.0.1). Plain `http:` is allowed to addresses inside them. Defaults to none.
   */
  allowedNetworks?: readonly string[];
  /** Allow plain `http:` to any permitted address, not only inside `allowedNetworks`. Defaults to false. */
  allowInsecureHttp?: boolean;
}

/** Whether one address may be connected to, and why not. */
export interface AddressVerdict {
  allowed: boolean;
  /** The address in canonical form (an IPv4-mapped IPv6 address as IPv4). */
  address: string;
  /** Why it is blocked, or that `allowedNetworks` let it through. */
  reason?: string;
  /** Whether it is inside `allowedNetworks` (which also permits plain http there). */
  inAllowedNetwork: boolean;
}

/** What `checkUrl` learnt: the hostname to resolve (brackets removed) and, for a literal, its verdict. */
export interface DestinationCheck {
  url: URL;
  hostname: string;
  /** Set when the host is an IP literal (already checked). */
  literal?: AddressVerdict;
  /** `http:` to a DNS name: every resolved address must then be inside `allowedNetworks` (checked at connect). */
  httpNeedsAllowedNetwork: boolean;
}

const MAPPED = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/**
 * The SSRF rules for outbound webhooks, with `allowedNetworks` parsed once. `classify` judges one
 * address; `checkUrl` judges a destination URL before any DNS lookup.
 */
export class SsrfPolicy {
  readonly allowedNetworks: readonly Cidr[];
  readonly allowInsecureHttp: boolean;

  constructor(options: SsrfOptions = {}) {
    this.allowedNetworks = parseCidrList(options.allowedNetworks ?? []);
    if (options.allowInsecureHttp !== undefined && typeof options.allowInsecureHttp !== 'boolean') {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `allowInsecureHttp must be a boolean, got ${JSON.stringify(options.allowInsecureHttp)}`,
      );
    }
    this.allowInsecureHttp = options.allowInsecureHttp ?? false;
  }

  classify(address: string | IpAddress): AddressVerdict {
    const parsed = typeof address === 'string' ? parseIp(address) : address;
    if (!parsed) {
      return {
        allowed: false,
        address: String(address),
        reason: 'not an IP address',
        inAllowedNetwork: false,
      };
    }
    const ip = unmap(parsed);
    const text = formatIp(ip);
    if (this.inAllowed(ip)) {
      return { allowed: true, address: text, reason: 'inside allowedNetworks', inAllowedNetwork: true };
    }
    const blocked = findBlockedRange(ip);
    if (!blocked) return { allowed: true, address: text, inAllowedNetwork: false };
    if (blocked.embedded) {
      // A transition address is as good as the IPv4 addresses it leads to.
      for (const inner of blocked.embedded(ip.bytes)) {
        const verdict = this.classify(inner);
        if (!verdict.allowed) {
          return {
            allowed: false,
            address: text,
            reason: `${blocked.reason} address embedding ${verdict.address} (${verdict.reason})`,
            inAllowedNetwork: false,
          };
        }
      }
      return { allowed: true, address: text, inAllowedNetwork: false };
    }
    return { allowed: false, address: text, reason: blocked.reason, inAllowedNetwork: false };
  }

  /**
   * Checks a destination URL without resolving it: http(s) only, no userinfo, a literal IP must be
   * permitted, and plain http only where allowed. Throws `PatchbayError` with `INVALID_ARGUMENT`,
   * `INSECURE_URL` or `SSRF_BLOCKED`, the message naming the problem.
   */
  checkUrl(input: string | URL): DestinationCheck {
    let url: URL;
    try {
      url = typeof input === 'string' ? new URL(input) : new URL(input.href);
    } catch {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'destination URL is not a valid absolute URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new PatchbayError(
        ErrorCode.INSECURE_URL,
        `destination URL must use https (or http to an allowed network), got ${url.protocol}`,
      );
    }
    if (url.username !== '' || url.password !== '') {
      // Credentials in a URL end up in logs and Referer-like places; use destination headers instead.
      throw new PatchbayError(
        ErrorCode.INSECURE_URL,
        'destination URL must not contain credentials (user:pass@)',
      );
    }
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const ip = parseIp(hostname);
    const http = url.protocol === 'http:';
    if (ip) {
      const literal = this.classify(ip);
      if (!literal.allowed) {
        throw new PatchbayError(
          ErrorCode.SSRF_BLOCKED,
          `destination ${literal.address} is blocked: ${literal.reason}`,
          {
            data: { address: literal.address },
          },
        );
      }
      if (http && !this.allowInsecureHttp && !literal.inAllowedNetwork) {
        throw new PatchbayError(
          ErrorCode.INSECURE_URL,
          `destination URL must use https: ${literal.address} is not inside allowedNetworks`,
        );
      }
      return { url, hostname, literal, httpNeedsAllowedNetwork: false };
    }
    const httpNeedsAllowedNetwork = http && !this.allowInsecureHttp;
    if (httpNeedsAllowedNetwork && this.allowedNetworks.length === 0) {
      throw new PatchbayError(ErrorCode.INSECURE_URL, 'destination URL must use https');
    }
    return { url, hostname, httpNeedsAllowedNetwork };
  }

  private inAllowed(ip: IpAddress): boolean {
    return this.allowedNetworks.some((cidr) => cidrContains(cidr, ip));
  }
}

/** `::ffff:a.b.c.d` is a.b.c.d on the wire, and is judged as such. */
function unmap(ip: IpAddress): IpAddress {
  if (ip.family === 6 && MAPPED.every((b, i) => ip.bytes[i] === b)) return ipv4(ip.bytes.subarray(12));
  return ip;
}

/** One-off form of `new SsrfPolicy(options).classify(address)`. */
export function classifyAddress(address: string, options: SsrfOptions = {}): AddressVerdict {
  return new SsrfPolicy(options).classify(address);
}

/** One-off form of `new SsrfPolicy(options).checkUrl(url)`. */
export function checkDestinationUrl(url: string | URL, options: SsrfOptions = {}): DestinationCheck {
  return new SsrfPolicy(options).checkUrl(url);
}
