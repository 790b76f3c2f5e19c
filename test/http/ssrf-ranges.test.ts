import { describe, expect, it } from 'vitest';
import {
  checkDestinationUrl,
  cidrContains,
  classifyAddress,
  formatCidr,
  formatIp,
  parseCidr,
  parseCidrList,
  parseIp,
} from '../../src/http/ssrf/index.js';

describe('classifying addresses', () => {
  it.each([
    ['0.0.0.0', /this network/],
    ['10.0.0.1', /private/],
    ['10.255.255.255', /private/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['100.127.255.255', /carrier-grade NAT/],
    ['127.0.0.1', /loopback/],
    ['127.255.255.254', /loopback/],
    ['169.254.169.254', /metadata/],
    ['172.16.0.1', /private/],
    ['172.31.255.255', /private/],
    ['192.0.0.8', /IETF/],
    ['192.0.2.1', /documentation/],
    ['192.168.1.1', /private/],
    ['198.18.0.1', /benchmarking/],
    ['198.19.255.255', /benchmarking/],
    ['198.51.100.7', /documentation/],
    ['203.0.113.9', /documentation/],
    ['224.0.0.251', /multicast/],
    ['239.255.255.250', /multicast/],
    ['240.0.0.1', /reserved/],
    ['255.255.255.255', /broadcast/],
    ['::', /unspecified/],
    ['::1', /loopback/],
    ['fc00::1', /unique local/],
    ['fd12:3456::1', /unique local/],
    ['fe80::1', /link-local/],
    ['fe80::1%eth0', /link-local/],
    ['febf:ffff::1', /link-local/],
    ['ff02::1', /multicast/],
    ['2001:db8::1', /documentation/],
    ['3fff::1', /documentation/],
    ['::127.0.0.1', /IPv4-compatible/],
    ['64:ff9b:1::a', /local-use NAT64/],
  ])('blocks %s', (address, reason) => {
    const verdict = classifyAddress(address);
    expect(verdict).toMatchObject({ allowed: false, reason: expect.stringMatching(reason) });
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '93.184.216.34',
    '100.63.255.255',
    '100.128.0.0',
    '172.15.255.255',
    '172.32.0.0',
    '198.17.255.255',
    '198.20.0.0',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001::200e',
  ])('allows the public address %s', (address) => {
    expect(classifyAddress(address)).toMatchObject({ allowed: true });
  });

  it('judges IPv4-mapped IPv6 as the IPv4 address it is', () => {
    expect(classifyAddress('::ffff:127.0.0.1')).toMatchObject({
      allowed: false,
      address: '127.0.0.1',
      reason: 'loopback',
    });
    expect(classifyAddress('::ffff:7f00:1')).toMatchObject({ allowed: false, address: '127.0.0.1' });
    expect(classifyAddress('::ffff:a9fe:a9fe')).toMatchObject({ allowed: false, address: '169.254.169.254' });
    expect(classifyAddress('::ffff:8.8.8.8')).toMatchObject({ allowed: true, address: '8.8.8.8' });
  });

  it('judges NAT64, 6to4 and Teredo addresses by the IPv4 addresses inside them', () => {
    expect(classifyAddress('64:ff9b::10.0.0.1')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/NAT64 address embedding 10.0.0.1 \(private/),
    });
    expect(classifyAddress('64:ff9b::a9fe:a9fe')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/169.254.169.254/),
    });
    expect(classifyAddress('64:ff9b::8.8.8.8')).toMatchObject({ allowed: true });
    expect(classifyAddress('2002:0a00:0001::1')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/6to4 address embedding 10.0.0.1/),
    });
    expect(classifyAddress('2002:c0a8:0101::')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/192.168.1.1/),
    });
    expect(classifyAddress('2002:0808:0808::1')).toMatchObject({ allowed: true });
    // RFC 4380's example: server 65.54.227.120, client 192.0.2.45 (obfuscated as 3fff:fdd2).
    expect(classifyAddress('2001:0:4136:e378:8000:63bf:3fff:fdd2')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/Teredo address embedding 192.0.2.45/),
    });
    expect(classifyAddress('2001:0:4136:e378:8000:63bf:f7f7:f7f7')).toMatchObject({ allowed: true }); // client 8.8.8.8
    expect(classifyAddress('2001:0:0a00:0001:8000:63bf:f7f7:f7f7')).toMatchObject({ allowed: false }); // server 10.0.0.1
  });

  it('lets allowedNetworks through, mapped forms and embedded addresses included', () => {
    const options = { allowedNetworks: ['127.0.0.0/8', '10.1.0.0/16', 'fd00:1::/32'] };
    expect(classifyAddress('127.0.0.1', options)).toMatchObject({ allowed: true, inAllowedNetwork: true });
    expect(classifyAddress('::ffff:127.0.0.2', options)).toMatchObject({
      allowed: true,
      address: '127.0.0.2',
    });
    expect(classifyAddress('10.1.200.3', options)).toMatchObject({ allowed: true });
    expect(classifyAddress('10.2.0.1', options)).toMatchObject({ allowed: false });
    expect(classifyAddress('fd00:1:2::3', options)).toMatchObject({ allowed: true });
    expect(classifyAddress('fd00:2::3', options)).toMatchObject({ allowed: false });
    expect(classifyAddress('64:ff9b::10.1.0.9', options)).toMatchObject({ allowed: true });
    expect(classifyAddress('::1', options)).toMatchObject({ allowed: false });
  });

  it('refuses things that are not addresses', () => {
    for (const text of ['localhost', '127.1', '0x7f000001', '', '1.2.3.4.5', '::g']) {
      expect(classifyAddress(text), text).toMatchObject({ allowed: false, reason: 'not an IP address' });
    }
  });
});

describe('IP and CIDR parsing', () => {
  it('round-trips addresses to canonical text', () => {
    expect(formatIp(parseIp('2001:0DB8:0000:0000:0000:0000:0000:0001')!)).toBe('2001:db8::1');
    expect(formatIp(parseIp('[::ffff:1.2.3.4]')!)).toBe('::ffff:102:304');
    expect(formatIp(parseIp('1:0:0:2:0:0:0:3')!)).toBe('1:0:0:2::3');
    expect(formatIp(parseIp('fe80::1%25en0')!)).toBe('fe80::1');
    expect(parseIp('010.0.0.1')).toBeUndefined();
  });

  it('parses networks, clears host bits and reads mapped IPv4 networks as IPv4', () => {
    expect(formatCidr(parseCidr('10.1.2.3/8'))).toBe('10.0.0.0/8');
    expect(formatCidr(parseCidr('192.168.1.1'))).toBe('192.168.1.1/32');
    expect(formatCidr(parseCidr('fd00::1/8'))).toBe('fd00::/8');
    expect(formatCidr(parseCidr('::ffff:10.0.0.0/104'))).toBe('10.0.0.0/8');
    expect(cidrContains(parseCidr('172.16.0.0/12'), parseIp('172.31.0.1')!)).toBe(true);
    expect(cidrContains(parseCidr('172.16.0.0/12'), parseIp('172.32.0.1')!)).toBe(false);
    expect(cidrContains(parseCidr('0.0.0.0/0'), parseIp('8.8.8.8')!)).toBe(true);
    expect(cidrContains(parseCidr('0.0.0.0/0'), parseIp('::1')!)).toBe(false);
  });

  it('names the bad entry of a list', () => {
    expect(() => parseCidrList(['10.0.0.0/8', '10.0.0.0/33'])).toThrow(
      /allowedNetworks\[1\]: "10.0.0.0\/33" is not a CIDR network: the prefix must be 0–32/,
    );
    expect(() => parseCidrList(['example.com/8'])).toThrow(/not an IPv4 or IPv6 address/);
    expect(() => parseCidrList(['10.0.0.0/x'])).toThrow(/prefix/);
  });
});

describe('checking destination URLs', () => {
  it('accepts https to a name, and leaves the DNS check for connect time', () => {
    expect(checkDestinationUrl('https://hooks.example.com/in')).toMatchObject({
      hostname: 'hooks.example.com',
      httpNeedsAllowedNetwork: false,
    });
  });

  it('requires https unless the address is inside allowedNetworks (or insecure http is allowed)', () => {
    expect(() => checkDestinationUrl('http://hooks.example.com/')).toThrow(
      expect.objectContaining({ code: 'INSECURE_URL' }),
    );
    expect(
      checkDestinationUrl('http://hooks.example.com/', { allowedNetworks: ['10.0.0.0/8'] }),
    ).toMatchObject({ httpNeedsAllowedNetwork: true });
    expect(checkDestinationUrl('http://hooks.example.com/', { allowInsecureHttp: true })).toMatchObject({
      httpNeedsAllowedNetwork: false,
    });
    expect(() => checkDestinationUrl('http://8.8.8.8/')).toThrow(
      expect.objectContaining({ code: 'INSECURE_URL' }),
    );
    expect(checkDestinationUrl('http://127.0.0.1:8080/', { allowedNetworks: ['127.0.0.0/8'] })).toMatchObject(
      { literal: { allowed: true } },
    );
  });

  it('refuses credentials in the URL and other schemes', () => {
    expect(() => checkDestinationUrl('https://user:pass@hooks.example.com/')).toThrow(
      expect.objectContaining({ code: 'INSECURE_URL', message: expect.stringMatching(/credentials/) }),
    );
    expect(() => checkDestinationUrl('https://user@hooks.example.com/')).toThrow(/credentials/);
    for (const url of [
      'ftp://example.com/',
      'file:///etc/passwd',
      'gopher://127.0.0.1/',
      'javascript:alert(1)',
    ]) {
      expect(() => checkDestinationUrl(url), url).toThrow(expect.objectContaining({ code: 'INSECURE_URL' }));
    }
    expect(() => checkDestinationUrl('not a url')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it.each([
    ['https://2130706433/', '127.0.0.1'],
    ['https://0x7f000001/', '127.0.0.1'],
    ['https://017700000001/', '127.0.0.1'],
    ['https://127.1/', '127.0.0.1'],
    ['https://0x7f.0.0.1/', '127.0.0.1'],
    ['https://0177.0.0.1/', '127.0.0.1'],
    ['https://0/', '0.0.0.0'],
    ['https://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['https://2852039166/', '169.254.169.254'],
    ['https://[::ffff:127.0.0.1]/', '127.0.0.1'],
    ['https://[::ffff:a9fe:a9fe]/', '169.254.169.254'],
    ['https://[::1]:8443/', '::1'],
    ['https://[fe80::1]/', 'fe80::1'],
    ['https://[64:ff9b::a00:1]/', '64:ff9b::a00:1'],
  ])('blocks %s (URL parsing normalises it to %s)', (url, address) => {
    expect(() => checkDestinationUrl(url)).toThrow(
      expect.objectContaining({ code: 'SSRF_BLOCKED', data: { address } }),
    );
  });

  it('lets an allowed literal through in whichever form it was written', () => {
    const options = { allowedNetworks: ['127.0.0.0/8'] };
    expect(checkDestinationUrl('http://2130706433:9000/x', options).url.host).toBe('127.0.0.1:9000');
    expect(checkDestinationUrl('https://[::ffff:7f00:1]/', options).literal).toMatchObject({
      allowed: true,
      address: '127.0.0.1',
    });
  });
});
