import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createWebhookVerifier, parseEvents } from '../../src/webhooks/verify/index.js';

const NOW_S = 1_700_000_000;

function keyPair(curve = 'prime256v1') {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: curve });
  const der = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  return { der, pem, privateKey };
}

function signed(privateKey: ReturnType<typeof keyPair>['privateKey'], body: string, timestamp = NOW_S) {
  const signature = sign('sha256', Buffer.from(`${timestamp}${body}`), privateKey).toString('base64');
  return {
    rawBody: body,
    headers: {
      'x-twilio-email-event-webhook-signature': signature,
      'x-twilio-email-event-webhook-timestamp': String(timestamp),
    },
    now: NOW_S * 1000,
  };
}

const events = `${JSON.stringify([
  { email: 'a@example.com', event: 'delivered', sg_event_id: 'ev-1', timestamp: NOW_S - 5, order: '42' },
  { email: 'b@example.com', event: 'open', sg_event_id: 'ev-2', timestamp: NOW_S - 4 },
])
  .split('},{')
  .join('},\r\n{')}\r\n`;

describe('sendgrid scheme', () => {
  it('accepts a signature by any configured key (rotation) and says which matched', () => {
    const old = keyPair();
    const current = keyPair();
    const verifier = createWebhookVerifier('sendgrid', { secrets: [old.der, current.pem] });
    expect(verifier.verify(signed(current.privateKey, events))).toMatchObject({ ok: true, secretIndex: 1 });
    expect(verifier.verify(signed(old.privateKey, events))).toMatchObject({ ok: true, secretIndex: 0 });
  });

  it('refuses a key that is not an ECDSA P-256 public key, naming the secret', () => {
    const other = keyPair('secp384r1');
    expect(() => createWebhookVerifier('sendgrid', { secrets: ['not a key'] })).toThrow(
      /secrets\[0\] is not a SendGrid verification key/,
    );
    expect(() => createWebhookVerifier('sendgrid', { secrets: [keyPair().der, other.der] })).toThrow(
      /secrets\[1\] is not a SendGrid verification key/,
    );
  });

  it('names the missing or malformed header', () => {
    const { der, privateKey } = keyPair();
    const verifier = createWebhookVerifier('sendgrid', { secrets: [der] });
    const request = signed(privateKey, events);
    const without = (name: string) => ({
      ...request,
      headers: Object.fromEntries(Object.entries(request.headers).filter(([k]) => k !== name)),
    });
    expect(verifier.verify(without('x-twilio-email-event-webhook-signature'))).toMatchObject({
      ok: false,
      code: 'SIGNATURE_MISSING',
      reason: 'X-Twilio-Email-Event-Webhook-Signature header is missing',
    });
    expect(verifier.verify(without('x-twilio-email-event-webhook-timestamp'))).toMatchObject({
      ok: false,
      code: 'SIGNATURE_MISSING',
    });
    const garbled = {
      ...request,
      headers: { ...request.headers, 'x-twilio-email-event-webhook-signature': 'not base64!' },
    };
    expect(verifier.verify(garbled)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
    const huge = {
      ...request,
      headers: { ...request.headers, 'x-twilio-email-event-webhook-signature': 'A'.repeat(4000) },
    };
    expect(verifier.verify(huge)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
  });

  it('turns each event into one event keyed by sg_event_id, custom args kept in the payload', () => {
    const result = parseEvents('sendgrid', { rawBody: events, headers: {} });
    expect(result).toEqual({
      ok: true,
      events: [
        {
          externalId: 'ev-1',
          type: 'delivered',
          payload: expect.objectContaining({ order: '42' }),
          occurredAt: (NOW_S - 5) * 1000,
        },
        { externalId: 'ev-2', type: 'open', payload: expect.any(Object), occurredAt: (NOW_S - 4) * 1000 },
      ],
    });
  });

  it('refuses a body that is not an array of events with ids', () => {
    expect(parseEvents('sendgrid', { rawBody: '{"event":"open"}', headers: {} })).toMatchObject({
      ok: false,
      code: 'PAYLOAD_INVALID',
      reason: 'SendGrid posts a JSON array of events',
    });
    expect(parseEvents('sendgrid', { rawBody: '[{"event":"open"}]', headers: {} })).toMatchObject({
      ok: false,
      reason: 'SendGrid event 0 has no "sg_event_id"',
    });
    expect(parseEvents('sendgrid', { rawBody: '[]', headers: {} })).toEqual({ ok: true, events: [] });
  });
});
