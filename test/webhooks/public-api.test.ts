import { describe, expect, it } from 'vitest';
import * as webhooks from '../../src/webhooks/index.js';

/** The runtime face of `patchbay/webhooks`: a change here is a change users see. */
describe('patchbay/webhooks exports', () => {
  it('exports exactly the documented functions and constants', () => {
    expect(Object.keys(webhooks).sort()).toEqual(
      [
        // inbound
        'createWebhookVerifier',
        'WebhookVerifier',
        'verifyWebhook',
        'parseEvents',
        'handshake',
        'headersToStore',
        'headersFromRaw',
        'schemeInfo',
        'isWebhookScheme',
        'WEBHOOK_SCHEMES',
        'decodeHubspotUri',
        // Fastify adapter
        'webhookVerification',
        'createWebhookPreHandler',
        'useRawBody',
        'webhookOf',
        // outbound signing
        'signStandardWebhook',
        'generateWebhookSecret',
        'decodeWebhookSecret',
        'MIN_SECRET_BYTES',
        'MAX_SECRET_BYTES',
        // SSRF
        'SsrfPolicy',
        'checkDestinationUrl',
        'classifyAddress',
        'createGuardedAgent',
        'createGuardedConnector',
        'createGuardedDispatcherFactory',
        'systemResolver',
        'parseCidr',
        'parseCidrList',
        'cidrContains',
        'formatCidr',
        'parseIp',
        'formatIp',
        'BLOCKED_RANGES',
      ].sort(),
    );
  });

  it('types a consumer can write against', () => {
    const request: webhooks.WebhookRequest = {
      rawBody: Buffer.from('{}'),
      headers: { 'x-a': ['1'] },
      url: '/x',
    };
    const result: webhooks.VerifyResult = webhooks.verifyWebhook('none', {
      ...request,
      secrets: [],
      options: { insecure: true },
    });
    const code: webhooks.WebhookFailureCode | 'ok' = result.ok ? 'ok' : result.code;
    const events: webhooks.ParseEventsResult = webhooks.parseEvents('none', request);
    const info: webhooks.WebhookSchemeInfo = webhooks.schemeInfo('github');
    const verdict: webhooks.AddressVerdict = webhooks.classifyAddress('8.8.8.8');
    expect([code, events.ok, info.name, verdict.allowed]).toEqual(['ok', true, 'github', true]);
  });
});
