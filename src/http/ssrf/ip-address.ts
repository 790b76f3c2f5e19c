import { isIPv4, isIPv6 } from 'node:net';

/** An IP address as bytes (4 or 16), the form range checks need. */
export interface IpAddress {
  family: 4 | 6;
  bytes: Uint8Array;
}

/**
 * Parses an IPv4 (strict dotted decimal) or IPv6 address, with or without `[]` and a `%zone`. Returns
 * `undefined` for anything else — including the shorthand IPv4 forms (`127.1`, `0x7f.0.0.1`, `2130706433`),
 * which WHATWG URL parsing has already turned into dotted decimal by the time a hostname reaches us.
 */
export function parseIp(text: string): IpAddress | undefined {
  let t = text;
  if (t.startsWith('[') && t.endsWith(']')) t = t.slice(1, -1);
  if (isIPv4(t)) return { family: 4, bytes: Uint8Array.from(t.split('.'), Number) };
  const zone = t.indexOf('%');
  if (zone >= 0) t = t.slice(0, zone);
  if (!isIPv6(t)) return undefined;
  const bytes = new Uint8Array(16);
  let tail: number[] = [];
  if (t.includes('.')) {
    const lastColon = t.lastIndexOf(':');
    tail = t
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    t = `${t.slice(0, lastColon + 1)}0:0`;
  }
  const halves = t.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':').map((g) => Number.parseInt(g, 16)) : []);
  const left = groups(halves[0]);
  const right = groups(halves[1]);
  const all = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  all.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  if (tail.length === 4) bytes.set(tail, 12);
  return { family: 6, bytes };
}

/** Dotted decimal, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return Array.from(ip.bytes).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((ip.bytes[i]! << 8) | ip.bytes[i + 1]!);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

export function ipv4(bytes: ArrayLike<number>): IpAddress {
  return { family: 4, bytes: Uint8Array.from(bytes) };
}
