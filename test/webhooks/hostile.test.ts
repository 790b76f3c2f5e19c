import { createHmac, generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createWebhookVerifier,
  type VerifyResult,
  type WebhookSchemeName,
  type WebhookSchemeOptions,
} from '../../src/webhooks/verify/index.js';
import {
  githubHeaders,
  type Headers,
  hubspotV1Headers,
  hubspotV2Headers,
  hubspotV3Headers,
  slackHeaders,
  standardHeaders,
  stripeHeaders,
} from './signers.js';

/**
 * Hostile and broken requests: every one gets a failure with the right code, never a throw, and no reason
 * ever carries a secret or the signature we expected.
 */
const NOW = 1_700_000_000_000;
const SEC = NOW / 1000;
const SW_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const SECRET = 'a-shared-secret-for-tests';
const URL = 'https://hooks.example.com/webhooks/hs?portal=1';
const BODY = '{"id":"evt_1","type":"thing.happened","value":[]}';
const SENDGRID = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

interface Case {
  scheme: WebhookSchemeName;
  secret: string;
  options?: WebhookSchemeOptions;
  /** The signature header(s) for `body`, signed at `timestamp` (a header text, any content). */
  sign(body: string | Buffer, timestamp: string): Headers;
  /** The header holding the signature and the one holding the time, if any. */
  signatureHeader: string;
  timestampHeader?: string;
  /** Unit of the timestamp header. */
  ms?: boolean;
}

const cases: Case[] = [
  {
    scheme: 'standard-webhooks',
    secret: SW_SECRET,
    sign: (body, ts) => {
      const key = Buffer.from(SW_SECRET.slice(6), 'base64');
      const mac = createHmac('sha256', key).update(`msg_1.${ts}.`).update(body).digest('base64');
      return { 'webhook-id': 'msg_1', 'webhook-timestamp': ts, 'webhook-signature': `v1,${mac}` };
    },
    signatureHeader: 'webhook-signature',
    timestampHeader: 'webhook-timestamp',
  },
  {
    scheme: 'github',
    secret: SECRET,
    sign: (body) => githubHeaders(SECRET, body),
    signatureHeader: 'x-hub-signature-256',
  },
  {
    scheme: 'stripe',
    secret: SECRET,
    sign: (body, ts) => {
      const mac = createHmac('sha256', SECRET).update(`${ts}.`).update(body).digest('hex');
      return { 'stripe-signature': `t=${ts},v1=${mac}` };
    },
    signatureHeader: 'stripe-signature',
  },
  {
    scheme: 'slack',
    secret: SECRET,
    sign: (body, ts) => slackHeaders(SECRET, ts, body),
    signatureHeader: 'x-slack-signature',
    timestampHeader: 'x-slack-request-timestamp',
  },
  {
    scheme: 'hubspot-v1',
    secret: SECRET,
    sign: (body) => hubspotV1Headers(SECRET, body),
    signatureHeader: 'x-hubspot-signature',
  },
  {
    scheme: 'hubspot-v2',
    secret: SECRET,
    sign: (body) => hubspotV2Headers(SECRET, 'POST', URL, body),
    signatureHeader: 'x-hubspot-signature',
  },
  {
    scheme: 'hubspot-v3',
    secret: SECRET,
    sign: (body, ts) => hubspotV3Headers(SECRET, 'POST', URL, body, ts),
    signatureHeader: 'x-hubspot-signature-v3',
    timestampHeader: 'x-hubspot-request-timestamp',
    ms: true,
  },
  {
    scheme: 'hmac-sha256',
    secret: SECRET,
    options: { header: 'X-Signature', prefix: 'sha256=', timestampHeader: 'X-Timestamp', encoding: 'base64' },
    sign: (body, ts) => {
      const mac = createHmac('sha256', SECRET).update(`${ts}.`).update(body).digest('base64');
      return { 'x-signature': `sha256=${mac}`, 'x-timestamp': ts };
    },
    signatureHeader: 'x-signature',
    timestampHeader: 'x-timestamp',
  },
  {
    scheme: 'sendgrid',
    secret: SENDGRID.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    sign: (body, ts) => ({
      'x-twilio-email-event-webhook-signature': sign(
        'sha256',
        Buffer.concat([Buffer.from(ts), Buffer.from(body)]),
        SENDGRID.privateKey,
      ).toString('base64'),
      'x-twilio-email-event-webhook-timestamp': ts,
    }),
    signatureHeader: 'x-twilio-email-event-webhook-signature',
    timestampHeader: 'x-twilio-email-event-webhook-timestamp',
  },
];

const stamp = (c: Case) => String(c.ms ? NOW : SEC);
const verifier = (c: Case) =>
  createWebhookVerifier(c.scheme, {
    secrets: [c.secret],
    options: { publicUrl: URL, ...c.options },
    now: () => NOW,
  });
const run = (c: Case, rawBody: string | Buffer, headers: Record<string, unknown>): VerifyResult =>
  verifier(c).verify({ rawBody, headers: headers as Headers, url: '/webhooks/hs?portal=1', method: 'POST' });

describe.each(cases)('$scheme', (c) => {
  const valid = () => c.sign(BODY, stamp(c));

  it('accepts the well-formed request (the baseline every mutation starts from)', () => {
    expect(run(c, BODY, valid())).toMatchObject({ ok: true, secretIndex: 0 });
  });

  it('refuses an empty body signed for another body', () => {
    expect(run(c, '', valid())).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID', status: 401 });
  });

  it('verifies bytes, not text: a signed body that is not UTF-8 passes verification', () => {
    const raw = Buffer.from([0x7b, 0xff, 0xfe, 0x80, 0x7d]);
    expect(run(c, raw, c.sign(raw, stamp(c)))).toMatchObject({ ok: true });
    expect(run(c, Buffer.from([0x7b, 0xff, 0xfe, 0x81, 0x7d]), c.sign(raw, stamp(c)))).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
    });
  });

  it('refuses a signature header sent twice, as an array or under two spellings', () => {
    const headers = valid();
    const sig = headers[c.signatureHeader]!;
    expect(run(c, BODY, { ...headers, [c.signatureHeader]: [sig, sig] })).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
      reason: expect.stringMatching(/repeated/),
    });
    expect(run(c, BODY, { ...headers, [c.signatureHeader.toUpperCase()]: sig })).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
    });
  });

  it('accepts a header given as a one-element array, in any letter case', () => {
    const headers = Object.fromEntries(Object.entries(valid()).map(([k, v]) => [k.toUpperCase(), [v]]));
    expect(run(c, BODY, headers)).toMatchObject({ ok: true });
  });

  it('reports a missing signature header as SIGNATURE_MISSING', () => {
    const { [c.signatureHeader]: _, ...rest } = valid();
    expect(run(c, BODY, rest)).toMatchObject({ ok: false, code: 'SIGNATURE_MISSING', status: 401 });
    expect(run(c, BODY, {})).toMatchObject({ ok: false, code: 'SIGNATURE_MISSING' });
    expect(run(c, BODY, { ...rest, [c.signatureHeader]: '' })).toMatchObject({
      ok: false,
      code: 'SIGNATURE_MISSING',
    });
  });

  it('refuses signatures of the wrong length or alphabet', () => {
    const headers = valid();
    const sig = headers[c.signatureHeader]!;
    for (const broken of [sig.slice(0, -2), `${sig}00`, `${sig}=`, sig.replace(/.$/, '!'), 'x', ' ']) {
      const result = run(c, BODY, { ...headers, [c.signatureHeader]: broken });
      expect(result.ok, broken).toBe(false);
      expect(['SIGNATURE_INVALID', 'SIGNATURE_MISSING']).toContain((result as { code: string }).code);
    }
  });

  if (c.timestampHeader || c.scheme === 'stripe') {
    const withTimestamp = (ts: string) => c.sign(BODY, ts);

    it('refuses timestamps that are not plain digits as SIGNATURE_INVALID', () => {
      for (const ts of ['abc', '1e9', '-1', '+1700000000', '0x10', '1700000000.5', '１７００']) {
        const result = run(c, BODY, withTimestamp(ts));
        expect(result, ts).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
      }
    });

    it('puts huge, zero and future timestamps out of range, even when correctly signed', () => {
      for (const ts of ['99999999999999999999', '9'.repeat(400), '0', String((c.ms ? NOW : SEC) * 2)]) {
        expect(run(c, BODY, withTimestamp(ts)), ts.slice(0, 20)).toMatchObject({
          ok: false,
          code: 'TIMESTAMP_OUT_OF_RANGE',
          status: 401,
        });
      }
      const future = String(c.ms ? NOW + 301_000 : SEC + 301);
      expect(run(c, BODY, withTimestamp(future))).toMatchObject({
        ok: false,
        code: 'TIMESTAMP_OUT_OF_RANGE',
      });
    });

    if (c.timestampHeader) {
      it('reports a missing timestamp header as SIGNATURE_MISSING', () => {
        const { [c.timestampHeader!]: _, ...rest } = valid();
        expect(run(c, BODY, rest)).toMatchObject({ ok: false, code: 'SIGNATURE_MISSING' });
      });
    }
  }

  it('never throws and never leaks the secret or the expected signature, whatever the headers', () => {
    const expected = [valid()[c.signatureHeader]!];
    const headerName = fc.oneof(
      fc.constantFrom(c.signatureHeader, c.timestampHeader ?? 'x-other', 'webhook-id', 'content-type'),
      fc.string({ maxLength: 20 }),
    );
    const headerValue = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.array(fc.string({ maxLength: 80 }), { maxLength: 3 }),
      fc.constantFrom(...expected),
      fc.constant(undefined),
    );
    fc.assert(
      fc.property(
        fc.dictionary(headerName, headerValue, { maxKeys: 6 }),
        fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.uint8Array({ maxLength: 300 })),
        (headers, body) => {
          const rawBody = typeof body === 'string' ? body : Buffer.from(body);
          const result = run(c, rawBody, headers);
          if (!result.ok) {
            expect([
              'SIGNATURE_MISSING',
              'SIGNATURE_INVALID',
              'TIMESTAMP_OUT_OF_RANGE',
              'PAYLOAD_INVALID',
            ]).toContain(result.code);
            expect(result.reason).not.toContain(c.secret);
            for (const value of expected) expect(result.reason).not.toContain(value);
            expect(result.reason).not.toMatch(/\n/);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('headers given as a fetch Headers object', () => {
  it('verifies like a plain record', () => {
    const c = cases.find((x) => x.scheme === 'github')!;
    const headers = new globalThis.Headers(c.sign(BODY, ''));
    expect(verifier(c).verify({ rawBody: BODY, headers })).toMatchObject({ ok: true });
  });
});

describe('Standard Webhooks specifics', () => {
  const c = cases[0]!;
  it('refuses a signature list longer than 32 entries', () => {
    const headers = valid32();
    expect(run(c, BODY, headers)).toMatchObject({ ok: false, reason: expect.stringMatching(/more than 32/) });
    function valid32() {
      const h = c.sign(BODY, String(SEC));
      return { ...h, 'webhook-signature': `${'v2,x '.repeat(32)}${h['webhook-signature']}` };
    }
  });
  it('reads svix-* headers when no webhook-* header is present', () => {
    const h = standardHeaders(SW_SECRET, 'msg_2', SEC, BODY);
    const svix = {
      'svix-id': h['webhook-id'],
      'svix-timestamp': h['webhook-timestamp'],
      'svix-signature': h['webhook-signature'],
    };
    expect(run(c, BODY, svix)).toMatchObject({ ok: true });
  });
  it('reports the missing id and timestamp headers by name', () => {
    const h = c.sign(BODY, String(SEC));
    expect(run(c, BODY, { ...h, 'webhook-id': undefined })).toMatchObject({
      code: 'SIGNATURE_MISSING',
      reason: 'webhook-id header is missing',
    });
  });
});

describe('Stripe header grammar', () => {
  const c = cases.find((x) => x.scheme === 'stripe')!;
  const mac = createHmac('sha256', SECRET).update(`${SEC}.`).update(BODY).digest('hex');
  it.each([
    [`t=${SEC},t=${SEC},v1=${mac}`, /more than one t=/],
    [`v1=${mac}`, /no t=/],
    [`t=${SEC}`, /no well-formed v1/],
    [`t=${SEC},v0=${mac}`, /no well-formed v1/],
    [`t=${SEC},v1=${mac},garbage`, /malformed/],
  ])('refuses %s', (header, reason) => {
    expect(run(c, BODY, { 'stripe-signature': header })).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
      reason: expect.stringMatching(reason),
    });
  });
  it('accepts any matching v1 among several (Stripe rolling its secret)', () => {
    const header = `t=${SEC},v1=${'0'.repeat(64)},v1=${mac},v0=${mac}`;
    expect(run(c, BODY, { 'stripe-signature': header })).toMatchObject({ ok: true });
  });
  it('the header from stripe-node works as well', () => {
    expect(run(c, BODY, stripeHeaders(SECRET, SEC, BODY))).toMatchObject({ ok: true });
  });
});

describe('GitHub specifics', () => {
  const c = cases.find((x) => x.scheme === 'github')!;
  it('does not accept the legacy SHA-1 header in place of the SHA-256 one', () => {
    const sha1 = `sha1=${createHmac('sha1', SECRET).update(BODY).digest('hex')}`;
    expect(run(c, BODY, { 'x-hub-signature': sha1 })).toMatchObject({
      code: 'SIGNATURE_MISSING',
      reason: expect.stringMatching(/SHA-1/),
    });
  });
  it('accepts upper-case hex', () => {
    const h = c.sign(BODY, '');
    const sig = h['x-hub-signature-256']!;
    expect(run(c, BODY, { 'x-hub-signature-256': `sha256=${sig.slice(7).toUpperCase()}` })).toMatchObject({
      ok: true,
    });
  });
});

describe('HubSpot specifics', () => {
  it('refuses a v1 request whose version header says v2', () => {
    const c = cases.find((x) => x.scheme === 'hubspot-v1')!;
    expect(run(c, BODY, { ...c.sign(BODY, ''), 'x-hubspot-signature-version': 'v2' })).toMatchObject({
      code: 'SIGNATURE_INVALID',
      reason: expect.stringMatching(/expects v1/),
    });
  });
});
