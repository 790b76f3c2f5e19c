import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { formatIp, type IpAddress, ipv4, parseIp } from './ip-address.js';

/** A network: an address and a prefix length. */
export interface Cidr {
  family: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
}

const MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/**
 * Parses `10.0.0.0/8`, `fd00::/8`, or a bare address (a /32 or /128). Host bits are cleared. An
 * IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) becomes the IPv4 network it means, because addresses
 * are compared after mapping is undone. Throws `INVALID_ARGUMENT` naming the entry.
 */
export function parseCidr(text: string): Cidr {
  const fail = (why: string): never => {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `${JSON.stringify(text)} is not a CIDR network: ${why}`,
    );
  };
  if (typeof text !== 'string') fail('expected a string');
  const slash = text.indexOf('/');
  const ip = parseIp(slash < 0 ? text.trim() : text.slice(0, slash).trim());
  if (!ip) return fail('the address is not an IPv4 or IPv6 address');
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1).trim();
    if (!/^[0-9]{1,3}$/.test(p) || Number(p) > max) fail(`the prefix must be 0–${max}`);
    prefix = Number(p);
  }
  if (ip.family === 6 && prefix >= 96 && MAPPED_PREFIX.every((b, i) => ip.bytes[i] === b)) {
    return mask({ ...ipv4(ip.bytes.subarray(12)), prefix: prefix - 96 });
  }
  return mask({ ...ip, prefix });
}

/** Parses a list, naming the position of a bad entry. */
export function parseCidrList(list: readonly string[], option = 'allowedNetworks'): Cidr[] {
  if (!Array.isArray(list)) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `${option} must be an array of CIDR strings`);
  }
  return list.map((entry, i) => {
    try {
      return parseCidr(entry);
    } catch (err) {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `${option}[${i}]: ${(err as Error).message}`);
    }
  });
}

export function cidrContains(cidr: Cidr, ip: IpAddress): boolean {
  if (cidr.family !== ip.family) return false;
  const full = cidr.prefix >> 3;
  for (let i = 0; i < full; i++) if (cidr.bytes[i] !== ip.bytes[i]) return false;
  const rest = cidr.prefix & 7;
  if (rest === 0) return true;
  const m = (0xff << (8 - rest)) & 0xff;
  return (cidr.bytes[full]! & m) === (ip.bytes[full]! & m);
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIp(cidr)}/${cidr.prefix}`;
}

function mask(cidr: Cidr): Cidr {
  const bytes = Uint8Array.from(cidr.bytes);
  for (let bit = cidr.prefix; bit < bytes.length * 8; bit++) bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  return { family: cidr.family, bytes, prefix: cidr.prefix };
}
