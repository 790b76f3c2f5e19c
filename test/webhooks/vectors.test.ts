import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { verifyWebhook } from '../../src/webhooks/verify/index.js';

/** Published vectors (providers' docs and SDK tests, each recomputed independently); clocks are injected. */
const vectors = JSON.parse(
  readFileSync(new URL('./fixtures/webhook-signatures.json', import.meta.url), 'utf8'),
);

interface SwCase {
  secret: string;
  id: string;
  timestamp: number;
  payload: string;
  signature: string;
  why?: string;
  note?: string;
}

const sw = (c: SwCase, nowSeconds: number) =>
  verifyWebhook('standard-webhooks', {
    rawBody: c.payload,
    headers: {
      'webhook-id': c.id,
      'webhook-timestamp': String(c.timestamp),
      'webhook-signature': c.signature,
    },
    secrets: [c.secret],
    now: nowSeconds * 1000,
  });

describe('Standard Webhooks vectors', () => {
  it.each(vectors['standard-webhooks'].valid as SwCase[])('accepts valid case $id ($signature)', (c) => {
    expect(sw(c, c.timestamp)).toMatchObject({ ok: true, secretIndex: 0, timestamp: c.timestamp * 1000 });
  });

  it.each(vectors['standard-webhooks'].invalid as SwCase[])('rejects: $why', (c) => {
    expect(sw(c, c.timestamp)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID', status: 401 });
  });

  it.each(vectors['standard-webhooks'].valid as SwCase[])('rejects case $id 301 s late or early', (c) => {
    expect(sw(c, c.timestamp + 301)).toMatchObject({ ok: false, code: 'TIMESTAMP_OUT_OF_RANGE' });
    expect(sw(c, c.timestamp - 301)).toMatchObject({ ok: false, code: 'TIMESTAMP_OUT_OF_RANGE' });
    expect(sw(c, c.timestamp + 300)).toMatchObject({ ok: true });
    expect(sw(c, c.timestamp - 300)).toMatchObject({ ok: true });
  });
});

describe('GitHub vector', () => {
  const [c] = vectors.github.valid as Array<{ secret: string; payload: string; signature: string }>;
  it('accepts the documented signature', () => {
    const result = verifyWebhook('github', {
      rawBody: c!.payload,
      headers: { 'x-hub-signature-256': c!.signature },
      secrets: [c!.secret],
    });
    expect(result).toEqual({ ok: true, scheme: 'github', secretIndex: 0 });
  });
  it('rejects the documented signature over another body', () => {
    const result = verifyWebhook('github', {
      rawBody: `${c!.payload} `,
      headers: { 'x-hub-signature-256': c!.signature },
      secrets: [c!.secret],
    });
    expect(result).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
  });
});

describe('HubSpot vectors', () => {
  interface HsCase {
    version: 'v1' | 'v2' | 'v3';
    secret: string;
    method: string;
    uri: string;
    payload: string;
    signature: string;
    timestamp?: number;
  }
  const cases = vectors.hubspot.valid as HsCase[];
  const run = (c: HsCase, overrides: { now?: number; payload?: string; uri?: string } = {}) =>
    verifyWebhook(`hubspot-${c.version}`, {
      rawBody: overrides.payload ?? c.payload,
      method: c.method,
      url: overrides.uri ?? c.uri,
      headers:
        c.version === 'v3'
          ? { 'x-hubspot-signature-v3': c.signature, 'x-hubspot-request-timestamp': String(c.timestamp) }
          : { 'x-hubspot-signature': c.signature, 'x-hubspot-signature-version': c.version },
      secrets: [c.secret],
      now: overrides.now ?? c.timestamp ?? Date.now(),
    });

  it.each(cases)('accepts $version $method $uri', (c) => {
    expect(run(c)).toMatchObject({ ok: true, secretIndex: 0 });
  });

  it.each(cases)('rejects $version $method $uri with one more byte of body', (c) => {
    expect(run(c, { payload: `${c.payload}x` })).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
  });

  it.each(cases.filter((c) => c.version !== 'v1'))('rejects $version when the URI differs', (c) => {
    expect(run(c, { uri: `${c.uri}2` })).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
  });

  it('rejects v3 when the timestamp is more than 300000 ms old or ahead', () => {
    const c = cases.find((x) => x.version === 'v3')!;
    expect(run(c, { now: c.timestamp! + 300_001 })).toMatchObject({
      ok: false,
      code: 'TIMESTAMP_OUT_OF_RANGE',
    });
    expect(run(c, { now: c.timestamp! - 300_001 })).toMatchObject({
      ok: false,
      code: 'TIMESTAMP_OUT_OF_RANGE',
    });
    expect(run(c, { now: c.timestamp! + 300_000 })).toMatchObject({ ok: true, timestamp: c.timestamp });
  });
});

describe('Stripe vector', () => {
  const [c] = vectors.stripe.valid as Array<{
    secret: string;
    timestamp: number;
    payload: string;
    header: string;
  }>;
  const run = (nowSeconds: number, payload = c!.payload) =>
    verifyWebhook('stripe', {
      rawBody: payload,
      headers: { 'stripe-signature': c!.header },
      secrets: [c!.secret],
      now: nowSeconds * 1000,
    });
  it('accepts the signed header', () => {
    expect(run(c!.timestamp)).toMatchObject({ ok: true, timestamp: c!.timestamp * 1000 });
  });
  it('rejects it out of the window, either side', () => {
    expect(run(c!.timestamp + 301)).toMatchObject({ ok: false, code: 'TIMESTAMP_OUT_OF_RANGE' });
    expect(run(c!.timestamp - 301)).toMatchObject({ ok: false, code: 'TIMESTAMP_OUT_OF_RANGE' });
  });
  it('rejects a changed payload', () => {
    expect(run(c!.timestamp, c!.payload.replace('evt_test', 'evt_tesT'))).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
    });
  });
});

describe('Slack vector', () => {
  const [c] = vectors.slack.valid as Array<{
    secret: string;
    timestamp: number;
    payload: string;
    signature: string;
  }>;
  const run = (nowSeconds: number, payload = c!.payload) =>
    verifyWebhook('slack', {
      rawBody: payload,
      headers: {
        'x-slack-signature': c!.signature,
        'x-slack-request-timestamp': String(c!.timestamp),
        'content-type': 'application/x-www-form-urlencoded',
      },
      secrets: [c!.secret],
      now: nowSeconds * 1000,
    });
  it('accepts the documented request', () => {
    expect(run(c!.timestamp + 60)).toMatchObject({ ok: true });
  });
  it('rejects it after 5 minutes, or 5 minutes early', () => {
    expect(run(c!.timestamp + 301)).toMatchObject({ ok: false, code: 'TIMESTAMP_OUT_OF_RANGE' });
    expect(run(c!.timestamp - 301)).toMatchObject({ ok: false, code: 'TIMESTAMP_OUT_OF_RANGE' });
  });
  it('rejects a changed body', () => {
    expect(run(c!.timestamp, c!.payload.replace('foobar', 'foobaz'))).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
    });
  });
});

describe('SendGrid vectors', () => {
  interface SgCase {
    publicKey: string;
    timestamp: string;
    payload: string;
    signature: string;
    note?: string;
    why?: string;
  }
  const run = (c: SgCase, nowSeconds = Number(c.timestamp)) =>
    verifyWebhook('sendgrid', {
      rawBody: c.payload,
      headers: {
        'X-Twilio-Email-Event-Webhook-Signature': c.signature,
        'X-Twilio-Email-Event-Webhook-Timestamp': c.timestamp,
      },
      secrets: [c.publicKey],
      now: nowSeconds * 1000,
    });
  it.each(vectors.sendgrid.valid as SgCase[])('accepts the published signature: $note', (c) => {
    expect(run(c)).toEqual({
      ok: true,
      scheme: 'sendgrid',
      secretIndex: 0,
      timestamp: Number(c.timestamp) * 1000,
    });
  });
  it.each(vectors.sendgrid.invalid as SgCase[])('rejects: $why', (c) => {
    expect(run(c)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID', status: 401 });
  });
  it.each(vectors.sendgrid.valid as SgCase[])('rejects $note 301 s late or early', (c) => {
    expect(run(c, Number(c.timestamp) + 301)).toMatchObject({ ok: false, code: 'TIMESTAMP_OUT_OF_RANGE' });
    expect(run(c, Number(c.timestamp) - 301)).toMatchObject({ ok: false, code: 'TIMESTAMP_OUT_OF_RANGE' });
    expect(run(c, Number(c.timestamp) + 300)).toMatchObject({ ok: true });
  });
});
