import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import {
  decodeWebhookSecret,
  generateWebhookSecret,
  signStandardWebhook,
} from '../../src/webhooks/sign/index.js';
import { verifyWebhook } from '../../src/webhooks/verify/index.js';

describe('generateWebhookSecret', () => {
  it('makes whsec_ + base64 of 32 random bytes by default, different every time', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(a.slice(6), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
  });

  it('makes 24 to 64 bytes on request and refuses other sizes', () => {
    expect(decodeWebhookSecret(generateWebhookSecret(24))).toHaveLength(24);
    expect(decodeWebhookSecret(generateWebhookSecret(64))).toHaveLength(64);
    expect(() => generateWebhookSecret(16)).toThrow(/bytes must be an integer from 24 to 64, got 16/);
  });
});

describe('signStandardWebhook', () => {
  const secret = generateWebhookSecret();

  it('produces the three headers, one v1 signature per secret in order', () => {
    const other = generateWebhookSecret();
    const headers = signStandardWebhook({
      id: 'msg_1',
      timestamp: 1_700_000_000,
      body: '{}',
      secrets: [secret, other],
    });
    expect(headers['webhook-id']).toBe('msg_1');
    expect(headers['webhook-timestamp']).toBe('1700000000');
    const [first, second] = headers['webhook-signature'].split(' ');
    expect(first).toBe(new Webhook(secret).sign('msg_1', new Date(1_700_000_000_000), '{}'));
    expect(second).toBe(new Webhook(other).sign('msg_1', new Date(1_700_000_000_000), '{}'));
  });

  it('is accepted by our own verifier with either secret of a rotation', () => {
    const next = generateWebhookSecret();
    const headers = signStandardWebhook({
      id: 'msg_2',
      timestamp: 1_700_000_000,
      body: '{"a":1}',
      secrets: [secret, next],
    });
    for (const [secrets, index] of [
      [[secret], 0],
      [[next], 0],
      [[generateWebhookSecret(), next], 1],
    ] as const) {
      expect(
        verifyWebhook('standard-webhooks', { rawBody: '{"a":1}', headers, secrets, now: 1_700_000_000_000 }),
      ).toMatchObject({ ok: true, secretIndex: index });
    }
  });

  it.each([
    ['no prefix', randomBytes(32).toString('base64'), /must start with "whsec_"/],
    ['not base64', 'whsec_not*base64', /followed by base64/],
    ['too short', `whsec_${randomBytes(16).toString('base64')}`, /24–64 bytes, got 16/],
    ['too long', `whsec_${randomBytes(65).toString('base64')}`, /24–64 bytes, got 65/],
  ])('refuses a secret with %s, naming its position but not its value', (_, bad, message) => {
    let error: Error | undefined;
    try {
      signStandardWebhook({ id: 'msg', timestamp: 1, body: '', secrets: [secret, bad] });
    } catch (err) {
      error = err as Error;
    }
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    expect(error!.message).toMatch(/^secrets\[1\]/);
    expect(error!.message).not.toContain(bad.slice(6));
  });

  it('refuses no secrets, ids that cannot be a header, and timestamps in ms', () => {
    expect(() => signStandardWebhook({ id: 'm', timestamp: 1, body: '', secrets: [] })).toThrow(
      /at least one webhook secret/,
    );
    expect(() => signStandardWebhook({ id: 'a b', timestamp: 1, body: '', secrets: [secret] })).toThrow(
      /printable ASCII/,
    );
    expect(() => signStandardWebhook({ id: 'a\r\nx: y', timestamp: 1, body: '', secrets: [secret] })).toThrow(
      /printable ASCII/,
    );
    expect(() =>
      signStandardWebhook({ id: 'm', timestamp: Date.now(), body: '', secrets: [secret] }),
    ).toThrow(/milliseconds\?/);
    expect(() =>
      signStandardWebhook({ id: 'm', timestamp: Number.NaN, body: '', secrets: [secret] }),
    ).toThrow(/unix seconds/);
  });
});
