import { parseIp } from '../../http/ssrf/ip-address.js';

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/**
 * The client a connection counts against: its IPv4 address (an IPv4-mapped IPv6 address is the IPv4 one),
 * or its IPv6 /64 — one end site is usually given a whole /64, so counting single IPv6 addresses would let
 * one client open connections from as many addresses as it likes.
 */
export function addressKey(remote: string | undefined): string {
  if (remote === undefined) return '';
  const ip = parseIp(remote);
  if (!ip) return remote;
  if (ip.family === 4) return remote;
  const bytes = ip.bytes;
  if (MAPPED_PREFIX.every((b, i) => bytes[i] === b)) return Array.from(bytes.subarray(12)).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return `${groups.join(':')}::/64`;
}
