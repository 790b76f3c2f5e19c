import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VERIFY_SCHEMES } from '../../src/core/config/schema.js';
import {
  createWebhookVerifier,
  handshake,
  headersToStore,
  parseEvents,
  schemeInfo,
  WEBHOOK_SCHEMES,
} from '../../src/webhooks/verify/index.js';
import { githubHeaders, slackHeaders, standardHeaders } from './signers.js';

const NOW = 1_700_000_000_000;

describe('scheme list', () => {
  it('names exactly the schemes the configuration accepts', () => {
    expect([...WEBHOOK_SCHEMES]).toEqual([...VERIFY_SCHEMES]);
  });

  it('lists the signature headers to strip and the default window of each scheme', () => {
    expect(schemeInfo('github')).toMatchObject({
      secretHeaders: ['x-hub-signature-256', 'x-hub-signature'],
      defaultToleranceMs: undefined,
    });
    expect(schemeInfo('hubspot-v3').defaultToleranceMs).toBe(300_000);
    expect(schemeInfo('msgraph').handshake).toBe('before-verify');
    expect(schemeInfo('slack').handshake).toBe('after-verify');
    expect(schemeInfo('none').requiresSecrets).toBe(false);
    for (const name of WEBHOOK_SCHEMES) {
      for (const h of schemeInfo(name).secretHeaders) expect(h).toBe(h.toLowerCase());
    }
  });

  it('says how an ingress answers and stores, so the ingress names no scheme', () => {
    expect(schemeInfo('msgraph')).toMatchObject({ acceptedStatus: 202, storesRawBody: false });
    expect(schemeInfo('none').authenticates).toBe(false);
    for (const name of WEBHOOK_SCHEMES.filter((n) => n !== 'msgraph' && n !== 'none')) {
      expect(schemeInfo(name)).toMatchObject({
        acceptedStatus: 200,
        storesRawBody: true,
        authenticates: true,
      });
    }
    const ingress = readFileSync(new URL('../../src/webhooks/ingress.ts', import.meta.url), 'utf8');
    for (const name of WEBHOOK_SCHEMES) expect(ingress).not.toContain(`'${name}'`);
  });

  it('strips the signature headers before storing and joins repeats', () => {
    expect(
      headersToStore('github', {
        'X-Hub-Signature-256': 'sha256=abc',
        'x-hub-signature': 'sha1=abc',
        'X-GitHub-Event': 'push',
        via: ['a', 'b'],
      }),
    ).toEqual({ 'x-github-event': 'push', via: 'a, b' });
  });
});

describe('standard-webhooks events', () => {
  it('uses webhook-id as the external id and the payload type and timestamp', () => {
    const body = JSON.stringify({
      type: 'invoice.paid',
      timestamp: '2023-11-14T22:13:20.000Z',
      data: { id: 1 },
    });
    const result = parseEvents('standard-webhooks', {
      rawBody: body,
      headers: { 'webhook-id': 'msg_abc', 'webhook-timestamp': '1700000000' },
    });
    expect(result).toEqual({
      ok: true,
      events: [{ externalId: 'msg_abc', type: 'invoice.paid', payload: JSON.parse(body), occurredAt: NOW }],
    });
  });

  it('refuses a body that is not JSON with PAYLOAD_INVALID (a 400), even when signed', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    const body = '{"type": "oops",';
    const verifier = createWebhookVerifier('standard-webhooks', { secrets: [secret], now: () => NOW });
    const result = verifier.receive({
      rawBody: body,
      headers: standardHeaders(secret, 'msg_1', NOW / 1000, body),
    });
    expect(result).toEqual({
      kind: 'rejected',
      failure: { ok: false, code: 'PAYLOAD_INVALID', reason: 'body is not valid JSON', status: 400 },
    });
  });
});

describe('GitHub events', () => {
  const headers = { 'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958', 'x-github-event': 'issues' };

  it('types an event with its action and keys it by the delivery GUID', () => {
    const result = parseEvents('github', { rawBody: '{"action":"opened","issue":{"number":1}}', headers });
    expect(result).toMatchObject({
      ok: true,
      events: [
        {
          externalId: headers['x-github-delivery'],
          type: 'issues.opened',
          payload: { issue: { number: 1 } },
        },
      ],
    });
  });

  it('types an event without action by the header alone', () => {
    const result = parseEvents('github', {
      rawBody: '{"zen":"Keep it logically awesome."}',
      headers: { ...headers, 'x-github-event': 'ping' },
    });
    expect(result).toMatchObject({ ok: true, events: [{ type: 'ping' }] });
  });

  it('reads a form-encoded delivery', () => {
    const rawBody = `payload=${encodeURIComponent('{"action":"closed"}')}`;
    const result = parseEvents('github', {
      rawBody,
      headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(result).toMatchObject({
      ok: true,
      events: [{ type: 'issues.closed', payload: { action: 'closed' } }],
    });
  });

  it('needs X-GitHub-Delivery to dedupe', () => {
    expect(parseEvents('github', { rawBody: '{}', headers: { 'x-github-event': 'push' } })).toMatchObject({
      ok: false,
      code: 'PAYLOAD_INVALID',
      reason: 'X-GitHub-Delivery header is missing',
    });
  });

  it('verifies then parses in receive()', () => {
    const body = '{"action":"opened"}';
    const verifier = createWebhookVerifier('github', { secrets: ['old', 'new'] });
    const result = verifier.receive({
      rawBody: body,
      headers: { ...headers, ...githubHeaders('new', body) },
    });
    expect(result).toMatchObject({
      kind: 'events',
      verification: { ok: true, scheme: 'github', secretIndex: 1 },
      events: [{ type: 'issues.opened' }],
    });
  });
});

describe('Stripe events', () => {
  it('uses the payload id and type, and created as the time', () => {
    const result = parseEvents('stripe', {
      rawBody: '{"id":"evt_1","type":"invoice.paid","created":1700000000}',
      headers: {},
    });
    expect(result).toMatchObject({
      ok: true,
      events: [{ externalId: 'evt_1', type: 'invoice.paid', occurredAt: NOW }],
    });
  });
  it('refuses an event without id', () => {
    expect(parseEvents('stripe', { rawBody: '{"type":"x"}', headers: {} })).toMatchObject({
      code: 'PAYLOAD_INVALID',
    });
  });
});

describe('HubSpot events', () => {
  const batch = [
    {
      eventId: 1,
      subscriptionId: 12345,
      portalId: 62515,
      occurredAt: 1564113600000,
      subscriptionType: 'contact.creation',
      attemptNumber: 0,
      objectId: 123,
    },
    {
      eventId: 1,
      subscriptionId: 777,
      portalId: 62515,
      occurredAt: 1564113600000,
      eventType: 'contact.propertyChange',
      attemptNumber: 0,
      objectId: 124,
    },
  ];

  it('makes one event per array element, keyed by eventId, subscriptionId and occurredAt', () => {
    const result = parseEvents('hubspot-v3', { rawBody: JSON.stringify(batch), headers: {} });
    expect(result).toEqual({
      ok: true,
      events: [
        {
          externalId: '1:12345:1564113600000',
          type: 'contact.creation',
          payload: batch[0],
          occurredAt: 1564113600000,
        },
        {
          externalId: '1:777:1564113600000',
          type: 'contact.propertyChange',
          payload: batch[1],
          occurredAt: 1564113600000,
        },
      ],
    });
  });

  it('gives a retry (attemptNumber + 1) the same external id', () => {
    const retry = batch.map((e) => ({ ...e, attemptNumber: 1 }));
    const first = parseEvents('hubspot-v1', { rawBody: JSON.stringify(batch), headers: {} });
    const again = parseEvents('hubspot-v1', { rawBody: JSON.stringify(retry), headers: {} });
    expect(first.ok && again.ok && again.events.map((e) => e.externalId)).toEqual(
      first.ok && first.events.map((e) => e.externalId),
    );
  });

  it('names the element without an eventId', () => {
    expect(
      parseEvents('hubspot-v2', { rawBody: '[{"eventId":1},{"objectId":2}]', headers: {} }),
    ).toMatchObject({
      code: 'PAYLOAD_INVALID',
      reason: 'HubSpot event 1 has no "eventId"',
    });
  });
});

describe('Slack', () => {
  const secret = '8f742231b10e8888abcd99yyyzzz85a5';
  const verifier = createWebhookVerifier('slack', { secrets: [secret], now: () => NOW });
  const signed = (body: string, extra: Record<string, string> = {}) => ({
    rawBody: body,
    headers: {
      ...slackHeaders(secret, String(NOW / 1000), body),
      'content-type': 'application/json',
      ...extra,
    },
  });

  it('answers url_verification with the challenge, but only once the request verified', () => {
    const body =
      '{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}';
    expect(verifier.receive(signed(body))).toEqual({
      kind: 'handshake',
      response: {
        status: 200,
        contentType: 'text/plain; charset=utf-8',
        body: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
      },
    });
    const forged = { ...signed(body), rawBody: body.replace('3eZ', '4eZ') };
    expect(verifier.receive(forged)).toMatchObject({
      kind: 'rejected',
      failure: { code: 'SIGNATURE_INVALID' },
    });
    expect(handshake('slack', signed(body))).toMatchObject({ status: 200 });
  });

  it('keys Events API callbacks by event_id and types them by event.type', () => {
    const body = JSON.stringify({
      type: 'event_callback',
      event_id: 'Ev123',
      event_time: 1700000000,
      event: { type: 'app_mention' },
    });
    expect(verifier.receive(signed(body))).toMatchObject({
      kind: 'events',
      events: [{ externalId: 'Ev123', type: 'app_mention', occurredAt: NOW }],
    });
  });

  it('reads slash commands from the form body, keyed by trigger_id', () => {
    const body = 'command=%2Fdeploy&text=now&trigger_id=398738663015.47445629121';
    const result = verifier.receive(signed(body, { 'content-type': 'application/x-www-form-urlencoded' }));
    expect(result).toMatchObject({
      kind: 'events',
      events: [
        {
          externalId: '398738663015.47445629121',
          type: 'slash_command',
          payload: { command: '/deploy', text: 'now' },
        },
      ],
    });
  });

  it('reads interactive payloads from the form field', () => {
    const body = `payload=${encodeURIComponent('{"type":"block_actions","trigger_id":"t1"}')}`;
    expect(
      parseEvents('slack', {
        rawBody: body,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      }),
    ).toMatchObject({
      ok: true,
      events: [{ externalId: 't1', type: 'block_actions' }],
    });
  });
});

describe('Microsoft Graph', () => {
  const clientState = 'secretClientValue-123';
  const verifier = createWebhookVerifier('msgraph', { secrets: ['previousState', clientState] });
  const notification = (extra: Record<string, unknown> = {}) => ({
    subscriptionId: 'sub-1',
    subscriptionExpirationDateTime: '2026-01-03T00:00:00Z',
    clientState,
    changeType: 'created',
    resource: 'Users/u1/Messages/m1',
    tenantId: 't1',
    resourceData: { '@odata.type': '#Microsoft.Graph.Message', id: 'm1' },
    ...extra,
  });

  it('answers the validation POST with the decoded token as text/plain before any check', () => {
    const token = 'Validation: Testing client application reachability for subscription Request-Id: 1f0e';
    const url = `/webhooks/graph?validationToken=${encodeURIComponent(token).replace(/%20/g, '+')}`;
    const result = verifier.receive({
      rawBody: '',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      url,
      method: 'POST',
    });
    expect(result).toEqual({
      kind: 'handshake',
      response: { status: 200, contentType: 'text/plain; charset=utf-8', body: token },
    });
    expect(handshake('msgraph', { rawBody: '', headers: {}, url, method: 'GET' })).toBeUndefined();
  });

  it('checks clientState on every notification of value[]', () => {
    const good = { value: [notification(), notification({ changeType: 'updated' })] };
    expect(verifier.verify({ rawBody: JSON.stringify(good), headers: {} })).toMatchObject({
      ok: true,
      secretIndex: 1,
    });
    const oneBad = { value: [notification(), notification({ clientState: 'guess' })] };
    expect(verifier.verify({ rawBody: JSON.stringify(oneBad), headers: {} })).toMatchObject({
      ok: false,
      code: 'SIGNATURE_INVALID',
      reason: 'clientState of notification 1 does not match a configured secret',
    });
    const oneMissing = { value: [notification(), notification({ clientState: undefined })] };
    expect(verifier.verify({ rawBody: JSON.stringify(oneMissing), headers: {} })).toMatchObject({
      code: 'SIGNATURE_MISSING',
    });
  });

  it('refuses bodies that are not notifications with PAYLOAD_INVALID', () => {
    for (const body of ['', 'not json', '{}', '{"value":[]}', '{"value":[1]}', '[]']) {
      expect(verifier.verify({ rawBody: body, headers: {} }), body).toMatchObject({
        ok: false,
        code: 'PAYLOAD_INVALID',
        status: 400,
      });
    }
  });

  it('makes one event per notification, without clientState, keyed by a hash of its canonical form', () => {
    const lifecycle = {
      subscriptionId: 'sub-1',
      subscriptionExpirationDateTime: '2026-01-03T00:00:00Z',
      tenantId: 't1',
      clientState,
      lifecycleEvent: 'reauthorizationRequired',
    };
    const result = verifier.receive({
      rawBody: JSON.stringify({ value: [notification(), lifecycle] }),
      headers: {},
    });
    expect(result.kind).toBe('events');
    const events = result.kind === 'events' ? result.events : [];
    expect(events.map((e) => e.type)).toEqual(['created', 'lifecycle.reauthorizationRequired']);
    for (const e of events) expect(JSON.stringify(e.payload)).not.toContain(clientState);
    // Written out by hand: keys sorted at every level, clientState gone.
    const canonical =
      '{"changeType":"created","resource":"Users/u1/Messages/m1","resourceData":{"@odata.type":"#Microsoft.Graph.Message","id":"m1"},' +
      '"subscriptionExpirationDateTime":"2026-01-03T00:00:00Z","subscriptionId":"sub-1","tenantId":"t1"}';
    expect(events[0]!.externalId).toBe(`sha256:${createHash('sha256').update(canonical).digest('hex')}`);
    // Key order does not change the id: a redelivery serialised differently is still a duplicate.
    const reordered = Object.fromEntries(Object.entries(notification()).reverse());
    const again = parseEvents('msgraph', { rawBody: JSON.stringify({ value: [reordered] }), headers: {} });
    expect(again.ok && again.events[0]!.externalId).toBe(events[0]!.externalId);
  });
});

describe('generic hmac-sha256 and none', () => {
  it('takes the id from webhook-id, then x-request-id, then a hash of the body', () => {
    const body = '{"type":"order.created","n":1}';
    const id = (headers: Record<string, string>) => {
      const r = parseEvents('none', { rawBody: body, headers });
      return r.ok ? r.events[0]!.externalId : r.code;
    };
    expect(id({ 'webhook-id': 'w1', 'x-request-id': 'r1' })).toBe('w1');
    expect(id({ 'x-request-id': 'r1' })).toBe('r1');
    expect(id({})).toBe(`sha256:${createHash('sha256').update(body).digest('hex')}`);
  });

  it('follows typePath into the JSON or a header, and idHeader', () => {
    const body = '{"data":{"event":{"kind":"user signed up"}}}';
    expect(
      parseEvents('hmac-sha256', {
        rawBody: body,
        headers: { 'x-id': 'abc' },
        options: { typePath: 'data.event.kind', idHeader: 'X-Id' },
      }),
    ).toMatchObject({
      ok: true,
      events: [{ externalId: 'abc', type: 'user_signed_up' }],
    });
    expect(
      parseEvents('none', {
        rawBody: body,
        headers: { 'x-event': 'ping' },
        options: { typePath: 'header:X-Event' },
      }),
    ).toMatchObject({
      ok: true,
      events: [{ type: 'ping' }],
    });
    expect(
      parseEvents('none', { rawBody: body, headers: {}, options: { typePath: 'data.missing' } }),
    ).toMatchObject({
      ok: true,
      events: [{ type: 'unknown' }],
    });
  });

  it('keeps non-JSON text bodies as text and refuses broken JSON', () => {
    expect(
      parseEvents('none', { rawBody: 'hello', headers: { 'content-type': 'text/plain' } }),
    ).toMatchObject({ ok: true, events: [{ payload: 'hello' }] });
    expect(parseEvents('none', { rawBody: '{"a":', headers: {} })).toMatchObject({
      ok: false,
      code: 'PAYLOAD_INVALID',
    });
    expect(
      parseEvents('none', { rawBody: Buffer.from([0xc3, 0x28]), headers: { 'content-type': 'text/plain' } }),
    ).toMatchObject({
      ok: false,
      code: 'PAYLOAD_INVALID',
      reason: 'body is not valid UTF-8',
    });
  });

  it('fits odd types to the event log grammar and bounds long ids', () => {
    const r = parseEvents('none', {
      rawBody: '{"type":"  weird/type name!"}',
      headers: { 'webhook-id': 'x'.repeat(300) },
    });
    expect(r).toMatchObject({
      ok: true,
      events: [{ type: 'weird_type_name_', externalId: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) }],
    });
  });

  it('signs {id} when the template asks for it', () => {
    const verifier = createWebhookVerifier('hmac-sha256', {
      secrets: ['k'],
      options: { header: 'x-sig', signedContent: '{id}:{body}', idHeader: 'x-id' },
    });
    const sig = createHmac('sha256', 'k').update('e1:{}').digest('hex');
    expect(verifier.verify({ rawBody: '{}', headers: { 'x-sig': sig, 'x-id': 'e1' } })).toMatchObject({
      ok: true,
    });
    expect(verifier.verify({ rawBody: '{}', headers: { 'x-sig': sig, 'x-id': 'e2' } })).toMatchObject({
      ok: false,
    });
    expect(verifier.verify({ rawBody: '{}', headers: { 'x-sig': sig } })).toMatchObject({
      code: 'SIGNATURE_MISSING',
    });
  });

  it('accepts a millisecond timestamp header when told so', () => {
    const verifier = createWebhookVerifier('hmac-sha256', {
      secrets: ['k'],
      options: { header: 'x-sig', timestampHeader: 'x-ts', timestampUnit: 'milliseconds' },
      now: () => NOW,
    });
    const sig = createHmac('sha256', 'k').update(`${NOW}.{}`).digest('hex');
    expect(verifier.verify({ rawBody: '{}', headers: { 'x-sig': sig, 'x-ts': String(NOW) } })).toMatchObject({
      ok: true,
      timestamp: NOW,
    });
  });
});

describe('configuration errors are thrown eagerly, naming the option and never the secret', () => {
  it.each([
    ['github', { secrets: [] }, /needs at least one secret/],
    ['github', { secrets: [''] }, /secrets\[0\] must be a non-empty string/],
    [
      'standard-webhooks',
      { secrets: ['whsec_not base64!'] },
      /secrets\[0\] is not a Standard Webhooks secret/,
    ],
    ['standard-webhooks', { secrets: ['whpk_AAAA'] }, /ed25519 public key/],
    ['none', { secrets: [] }, /insecure/],
    ['hmac-sha256', { secrets: ['k'] }, /needs options.header/],
    [
      'hmac-sha256',
      { secrets: ['k'], options: { header: 'x s' } },
      /options.header must be a header name, got "x s"/,
    ],
    [
      'hmac-sha256',
      { secrets: ['k'], options: { header: 'x', encoding: 'hexa' } },
      /options.encoding must be "hex" or "base64", got "hexa"/,
    ],
    [
      'hmac-sha256',
      { secrets: ['k'], options: { header: 'x', signedContent: '{timestamp}' } },
      /\{body\} exactly once/,
    ],
    [
      'hmac-sha256',
      { secrets: ['k'], options: { header: 'x', signedContent: '{timestamp}.{body}' } },
      /set options.timestampHeader/,
    ],
    [
      'hmac-sha256',
      { secrets: ['k'], options: { header: 'x', timestampHeader: 't', signedContent: '{body}' } },
      /does not sign \{timestamp\}/,
    ],
    [
      'hubspot-v3',
      { secrets: ['k'], options: { publicUrl: 'hooks.example.com/x' } },
      /options.publicUrl .* absolute http\(s\) URL/,
    ],
    ['github', { secrets: ['k'], toleranceMs: -1 }, /toleranceMs must be a positive number/],
    ['nope', { secrets: ['k'] }, /unknown webhook scheme "nope"/],
  ] as const)('%s %j', (scheme, config, message) => {
    let error: unknown;
    try {
      createWebhookVerifier(scheme as never, config as never);
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    expect((error as Error).message).not.toContain('not base64!');
  });

  it('hubspot-v2/v3 need publicUrl or an absolute url when a request arrives', () => {
    const verifier = createWebhookVerifier('hubspot-v3', { secrets: ['k'] });
    expect(() =>
      verifier.verify({
        rawBody: '{}',
        url: '/x',
        headers: { 'x-hubspot-signature-v3': 'A'.repeat(43) + '=', 'x-hubspot-request-timestamp': '1' },
      }),
    ).toThrow(/set options.publicUrl/);
  });

  it('refuses a parsed object as rawBody: the signature covers bytes', () => {
    const verifier = createWebhookVerifier('github', { secrets: ['k'] });
    expect(() => verifier.verify({ rawBody: { a: 1 } as never, headers: {} })).toThrow(
      /rawBody must be the raw request bytes/,
    );
  });
});
