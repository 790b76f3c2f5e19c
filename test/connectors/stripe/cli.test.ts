import { once } from 'node:events';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { startFakeCli } from '../fake-cli.js';

describe('patchbay fake stripe', () => {
  it('serves the fake on the port it prints, with what GET /_fake lists, until SIGTERM', async () => {
    const { child, url, output } = await startFakeCli(['stripe', '--port', '0', '--customers', '4']);
    try {
      expect(output()).toContain('pm_card_chargeDeclined');
      const { hostname, port } = new URL(url);
      const stripe = new Stripe('sk_test_cli000000001', {
        host: hostname,
        port: Number(port),
        protocol: 'http',
      });
      expect((await stripe.customers.list()).data).toHaveLength(4);
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });
});
