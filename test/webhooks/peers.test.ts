import { createHmac, sign as edSign, generateKeyPairSync, randomBytes } from 'node:crypto';
import { sign as octokitSign, verify as octokitVerify } from '@octokit/webhooks-methods';
import fc from 'fast-check';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signStandardWebhook } from '../../src/webhooks/sign/index.js';
import { verifyWebhook } from '../../src/webhooks/verify/index.js';

/**
 * Our verifiers against the independent implementations: whatever `standardwebhooks`, `@octokit/webhooks-methods`
 * and `stripe` sign, with random secrets and bodies, we accept; change one byte and we refuse.
 */
const stripe = new Stripe('sk_test_unused');
const RUNS = 150;

const body = fc.string({ unit: 'binary', maxLength: 2000 });
/** @octokit/webhooks-methods refuses an empty payload. */
const nonEmptyBody = fc.string({ unit: 'binary', minLength: 1, maxLength: 2000 });
const secretBytes = fc.uint8Array({ minLength: 24, maxLength: 64 });
const textSecret = fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }).filter((s) => s.trim() === s);
const seconds = fc.integer({ min: 1_000_000_000, max: 4_000_000_000 });

/** The body's bytes with one byte changed (or one byte added to an empty body). */
function flipOneByte(text: string, at: number, xor: number): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length === 0) return Buffer.from([xor]);
  const copy = Buffer.from(bytes);
  copy[at % copy.length]! ^= xor;
  return copy;
}
const flip = fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 }));

describe('against standardwebhooks', () => {
  it('accepts what Webhook.sign signs, and refuses it with one byte changed', () => {
    fc.assert(
      fc.property(
        secretBytes,
        body,
        seconds,
        fc.stringMatching(/^msg_[A-Za-z0-9]{1,30}$/),
        flip,
        (key, payload, ts, id, [at, xor]) => {
          const secret = `whsec_${Buffer.from(key).toString('base64')}`;
          const headers = {
            'webhook-id': id,
            'webhook-timestamp': String(ts),
            'webhook-signature': new Webhook(secret).sign(id, new Date(ts * 1000), payload),
          };
          const check = (rawBody: string | Buffer) =>
            verifyWebhook('standard-webhooks', { rawBody, headers, secrets: [secret], now: ts * 1000 });
          expect(check(payload)).toMatchObject({ ok: true });
          expect(check(flipOneByte(payload, at, xor))).toMatchObject({
            ok: false,
            code: 'SIGNATURE_INVALID',
          });
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('verifies our signStandardWebhook output with Webhook.verify, for every secret of a rotation', () => {
    fc.assert(
      fc.property(secretBytes, secretBytes, body, (oldKey, newKey, payload) => {
        const oldSecret = `whsec_${Buffer.from(oldKey).toString('base64')}`;
        const newSecret = `whsec_${Buffer.from(newKey).toString('base64')}`;
        const headers = signStandardWebhook({
          id: 'msg_rotation',
          // Webhook.verify reads the real clock; sign "now".
          timestamp: Math.floor(Date.now() / 1000),
          body: payload,
          secrets: [oldSecret, newSecret],
        });
        expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
        for (const secret of [oldSecret, newSecret]) {
          expect(() => new Webhook(secret).verify(payload, headers, { jsonParse: false })).not.toThrow();
        }
        const stranger = generateWebhookSecret();
        expect(() => new Webhook(stranger).verify(payload, headers, { jsonParse: false })).toThrow(
          /No matching signature/,
        );
        expect(() => new Webhook(oldSecret).verify(`${payload}!`, headers, { jsonParse: false })).toThrow(
          /No matching signature/,
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('signs the exact bytes of a Buffer body, including bytes that are not UTF-8', () => {
    const secret = generateWebhookSecret();
    const rawBody = Buffer.concat([Buffer.from('{"a":"'), randomBytes(64), Buffer.from('"}')]);
    const headers = signStandardWebhook({
      id: 'msg_1',
      timestamp: 1_700_000_000,
      body: rawBody,
      secrets: [secret],
    });
    const key = Buffer.from(secret.slice(6), 'base64');
    const expected = createHmac('sha256', key).update('msg_1.1700000000.').update(rawBody).digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
    expect(
      verifyWebhook('standard-webhooks', { rawBody, headers, secrets: [secret], now: 1_700_000_000_000 }),
    ).toMatchObject({ ok: true });
  });
});

describe('against @octokit/webhooks-methods', () => {
  it('accepts what sign() signs, and refuses it with one byte changed', async () => {
    await fc.assert(
      fc.asyncProperty(textSecret, nonEmptyBody, flip, async (secret, payload, [at, xor]) => {
        const signature = await octokitSign(secret, payload);
        const headers = { 'x-hub-signature-256': signature };
        expect(verifyWebhook('github', { rawBody: payload, headers, secrets: [secret] })).toMatchObject({
          ok: true,
        });
        expect(
          verifyWebhook('github', { rawBody: flipOneByte(payload, at, xor), headers, secrets: [secret] }),
        ).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
        // And the peer agrees with the verdict on the original.
        expect(await octokitVerify(secret, payload, signature)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it('accepts with any of several secrets, reporting which one matched', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(textSecret, { minLength: 2, maxLength: 4 }),
        fc.nat(),
        nonEmptyBody,
        async (secrets, pick, payload) => {
          const index = pick % secrets.length;
          const headers = { 'x-hub-signature-256': await octokitSign(secrets[index]!, payload) };
          expect(verifyWebhook('github', { rawBody: payload, headers, secrets })).toMatchObject({
            ok: true,
            secretIndex: index,
          });
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('against stripe', () => {
  it('accepts what generateTestHeaderString signs, and refuses it with one byte changed', () => {
    fc.assert(
      fc.property(
        textSecret.map((s) => `whsec_${s}`),
        body.filter((b) => b.length > 0),
        seconds,
        flip,
        (secret, payload, ts, [at, xor]) => {
          const header = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: ts });
          const headers = { 'stripe-signature': header };
          const check = (rawBody: string | Buffer) =>
            verifyWebhook('stripe', { rawBody, headers, secrets: [secret], now: ts * 1000 + 1000 });
          expect(check(payload)).toMatchObject({ ok: true, timestamp: ts * 1000 });
          expect(check(flipOneByte(payload, at, xor))).toMatchObject({
            ok: false,
            code: 'SIGNATURE_INVALID',
          });
          // stripe-node reaches the same verdicts (tolerance 0 = no clock check: it reads the real clock).
          expect(stripe.webhooks.signature.verifyHeader(payload, header, secret, 0)).toBe(true);
          expect(() =>
            stripe.webhooks.signature.verifyHeader(
              flipOneByte(payload, at, xor).toString('latin1'),
              header,
              secret,
              0,
            ),
          ).toThrow(/No signatures found matching/);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('Standard Webhooks v1a (ed25519)', () => {
  const pair = () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const x = publicKey.export({ format: 'jwk' }).x!;
    return { privateKey, whpk: `whpk_${Buffer.from(x, 'base64url').toString('base64')}` };
  };

  it('accepts a v1a signature from the matching public key, next to HMAC secrets', () => {
    const signer = pair();
    const other = pair();
    fc.assert(
      fc.property(body, seconds, (payload, ts) => {
        const content = Buffer.from(`msg_ed.${ts}.${payload}`);
        const sig = edSign(null, content, signer.privateKey).toString('base64');
        const headers = {
          'webhook-id': 'msg_ed',
          'webhook-timestamp': String(ts),
          'webhook-signature': `v1a,${sig}`,
        };
        const secrets = [generateWebhookSecret(), other.whpk, signer.whpk];
        const run = (rawBody: string | Buffer) =>
          verifyWebhook('standard-webhooks', { rawBody, headers, secrets, now: ts * 1000 });
        expect(run(payload)).toMatchObject({ ok: true, secretIndex: 2 });
        expect(run(`${payload}.`)).toMatchObject({ ok: false, code: 'SIGNATURE_INVALID' });
      }),
      { numRuns: 30 },
    );
  });

  it('refuses a private key given as a receiver secret', () => {
    expect(() =>
      verifyWebhook('standard-webhooks', {
        rawBody: '{}',
        headers: {},
        secrets: [`whsk_${randomBytes(32).toString('base64')}`],
      }),
    ).toThrow(/public key/);
  });
});
