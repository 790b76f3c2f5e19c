import { type Cidr, cidrContains, parseCidr } from './cidr.js';
import { type IpAddress, ipv4 } from './ip-address.js';

interface BlockedRange {
  cidr: Cidr;
  reason: string;
  /** For transition ranges: the IPv4 addresses inside, each checked in its own right. */
  embedded?: (bytes: Uint8Array) => IpAddress[];
}

const range = (text: string, reason: string, embedded?: BlockedRange['embedded']): BlockedRange => ({
  cidr: parseCidr(text),
  reason,
  ...(embedded && { embedded }),
});

/**
 * Destinations a webhook may never reach unless `allowedNetworks` says so: Svix's list (private, loopback,
 * link-local with the cloud metadata address, CGNAT, multicast, documentation, benchmarking, reserved)
 * plus the IPv6 transition ranges, whose embedded IPv4 address decides instead of the range itself.
 * IPv4-mapped addresses (`::ffff:a.b.c.d`) never get here: they are turned into IPv4 first.
 */
export const BLOCKED_RANGES: readonly BlockedRange[] = [
  range('0.0.0.0/8', '"this network" (0.0.0.0 reaches the local host)'),
  range('10.0.0.0/8', 'private network'),
  range('100.64.0.0/10', 'carrier-grade NAT'),
  range('127.0.0.0/8', 'loopback'),
  range('169.254.0.0/16', 'link-local (includes the 169.254.169.254 cloud metadata service)'),
  range('172.16.0.0/12', 'private network'),
  range('192.0.0.0/24', 'IETF protocol assignments'),
  range('192.0.2.0/24', 'documentation (TEST-NET-1)'),
  range('192.88.99.0/24', '6to4 relay anycast'),
  range('192.168.0.0/16', 'private network'),
  range('198.18.0.0/15', 'benchmarking'),
  range('198.51.100.0/24', 'documentation (TEST-NET-2)'),
  range('203.0.113.0/24', 'documentation (TEST-NET-3)'),
  range('224.0.0.0/4', 'multicast'),
  range('255.255.255.255/32', 'broadcast'),
  range('240.0.0.0/4', 'reserved'),
  range('::/128', 'unspecified address'),
  range('::1/128', 'loopback'),
  range('::/96', 'IPv4-compatible (deprecated)'),
  range('64:ff9b::/96', 'NAT64', (b) => [ipv4(b.subarray(12, 16))]),
  range('64:ff9b:1::/48', 'local-use NAT64'),
  range('100::/64', 'discard-only'),
  // Teredo: server IPv4 in bits 32–63, client IPv4 in the last 32 bits, inverted.
  range('2001::/32', 'Teredo', (b) => [
    ipv4(b.subarray(4, 8)),
    ipv4(b.subarray(12, 16).map((x) => x ^ 0xff)),
  ]),
  range('2001:2::/48', 'benchmarking'),
  range('2001:10::/28', 'ORCHID (deprecated)'),
  range('2001:20::/28', 'ORCHIDv2'),
  range('2001:db8::/32', 'documentation'),
  range('2002::/16', '6to4', (b) => [ipv4(b.subarray(2, 6))]),
  range('3fff::/20', 'documentation'),
  range('fc00::/7', 'unique local address (private network)'),
  range('fe80::/10', 'link-local'),
  range('fec0::/10', 'site-local (deprecated)'),
  range('ff00::/8', 'multicast'),
];

export function findBlockedRange(ip: IpAddress): BlockedRange | undefined {
  return BLOCKED_RANGES.find((r) => cidrContains(r.cidr, ip));
}
