/**
 * Webhook verification throughput: Patchbay's verifiers beside the independent libraries' own verify
 * functions, on the same signed requests, in the same process, runs interleaved. Prints the median ops/s
 * of each and the ratio (Patchbay ÷ peer; above 1 means Patchbay is faster).
 *
 *   npx tsx bench/verify.ts
 *   RUNS=7 SCALE=2 npx tsx bench/verify.ts
 *
 * Pairs (each side gets the input its API documents; a server has the raw body as a Buffer):
 * - standard-webhooks: `WebhookVerifier.verify` vs `standardwebhooks` `Webhook.verify` (jsonParse off: verify only)
 * - github: `WebhookVerifier.verify` vs `@octokit/webhooks-methods` `verify` (async; takes a string)
 * - stripe: `WebhookVerifier.receive` (verify + parse) vs `stripe.webhooks.constructEvent` (verify + JSON.parse)
 * plus the one-call `verifyWebhook`, which also prepares the keys on every call.
 */
import { randomBytes } from 'node:crypto';
import { sign as octokitSign, verify as octokitVerify } from '@octokit/webhooks-methods';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { createWebhookVerifier, verifyWebhook } from '../src/webhooks/verify/index.js';
import { median, printTable } from './util.js';

const RUNS = Number(process.env.RUNS ?? 5);
const SCALE = Number(process.env.SCALE ?? 1);
const stripe = new Stripe('sk_test_unused');

function jsonBody(bytes: number): string {
  const filler = randomBytes(Math.ceil(bytes / 2))
    .toString('hex')
    .slice(0, Math.max(0, bytes - 40));
  return JSON.stringify({ id: 'evt_bench', type: 'bench.event', object: 'event', data: filler });
}

interface Side {
  name: string;
  run: () => unknown | Promise<unknown>;
  async?: boolean;
}

interface Pair {
  scheme: string;
  size: string;
  iterations: number;
  ours: Side;
  peer: Side;
}

async function opsPerSecond(side: Side, iterations: number): Promise<number> {
  const start = process.hrtime.bigint();
  if (side.async) {
    for (let i = 0; i < iterations; i++) await side.run();
  } else {
    for (let i = 0; i < iterations; i++) side.run();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return iterations / seconds;
}

async function check(side: Side): Promise<void> {
  const result = await side.run();
  const ok =
    result === true ||
    result === undefined ||
    (typeof result === 'object' &&
      result !== null &&
      ((result as { ok?: boolean }).ok === true ||
        (result as { kind?: string }).kind === 'events' ||
        'id' in result));
  if (!ok) throw new Error(`${side.name} did not verify: ${JSON.stringify(result)}`);
}

function pairs(): Pair[] {
  const out: Pair[] = [];
  for (const [size, bytes, iterations] of [
    ['1 KB', 1024, 20_000],
    ['64 KB', 65_536, 2_000],
  ] as const) {
    const n = Math.max(1, Math.round(iterations * SCALE));
    const text = jsonBody(bytes);
    const raw = Buffer.from(text);
    const nowSeconds = Math.floor(Date.now() / 1000);

    // Standard Webhooks
    const swSecret = `whsec_${randomBytes(32).toString('base64')}`;
    const swHeaders = {
      'webhook-id': 'msg_bench',
      'webhook-timestamp': String(nowSeconds),
      'webhook-signature': new Webhook(swSecret).sign('msg_bench', new Date(nowSeconds * 1000), text),
    };
    const sw = createWebhookVerifier('standard-webhooks', { secrets: [swSecret] });
    const swPeer = new Webhook(swSecret);
    out.push({
      scheme: 'standard-webhooks',
      size,
      iterations: n,
      ours: { name: 'verifier.verify', run: () => sw.verify({ rawBody: raw, headers: swHeaders }) },
      peer: { name: 'Webhook.verify', run: () => swPeer.verify(raw, swHeaders, { jsonParse: false }) },
    });
    out.push({
      scheme: 'standard-webhooks (one call)',
      size,
      iterations: n,
      ours: {
        name: 'verifyWebhook',
        run: () =>
          verifyWebhook('standard-webhooks', { rawBody: raw, headers: swHeaders, secrets: [swSecret] }),
      },
      peer: {
        name: 'new Webhook().verify',
        run: () => new Webhook(swSecret).verify(raw, swHeaders, { jsonParse: false }),
      },
    });

    // GitHub
    const ghSecret = randomBytes(20).toString('hex');
    const ghVerifier = createWebhookVerifier('github', { secrets: [ghSecret] });
    out.push({
      scheme: 'github',
      size,
      iterations: n,
      ours: {
        name: 'verifier.verify',
        run: () => ghVerifier.verify({ rawBody: raw, headers: { 'x-hub-signature-256': ghSignature } }),
      },
      peer: { name: 'octokit verify', async: true, run: () => octokitVerify(ghSecret, text, ghSignature) },
    });
    // Filled below (octokit signs asynchronously).
    let ghSignature = '';
    pendingSigns.push(octokitSign(ghSecret, text).then((s) => (ghSignature = s)));

    // Stripe
    const stSecret = `whsec_${randomBytes(24).toString('hex')}`;
    const stHeader = stripe.webhooks.generateTestHeaderString({
      payload: text,
      secret: stSecret,
      timestamp: nowSeconds,
    });
    const stVerifier = createWebhookVerifier('stripe', { secrets: [stSecret] });
    out.push({
      scheme: 'stripe (verify + parse)',
      size,
      iterations: n,
      ours: {
        name: 'verifier.receive',
        run: () => stVerifier.receive({ rawBody: raw, headers: { 'stripe-signature': stHeader } }),
      },
      peer: { name: 'constructEvent', run: () => stripe.webhooks.constructEvent(raw, stHeader, stSecret) },
    });
  }
  return out;
}

const pendingSigns: Promise<unknown>[] = [];

async function main(): Promise<void> {
  const list = pairs();
  await Promise.all(pendingSigns);
  console.log(`webhook verification, ${RUNS} interleaved runs per pair, node ${process.version}`);
  const rows: string[][] = [];
  for (const pair of list) {
    await check(pair.ours);
    await check(pair.peer);
    // Warm-up: let both sides reach optimised code before anything is timed.
    await opsPerSecond(pair.ours, Math.ceil(pair.iterations / 4));
    await opsPerSecond(pair.peer, Math.ceil(pair.iterations / 4));
    const ours: number[] = [];
    const peer: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      ours.push(await opsPerSecond(pair.ours, pair.iterations));
      peer.push(await opsPerSecond(pair.peer, pair.iterations));
    }
    const o = median(ours);
    const p = median(peer);
    rows.push([
      pair.scheme,
      pair.size,
      `${pair.ours.name} ${Math.round(o).toLocaleString('en')}/s`,
      `${pair.peer.name} ${Math.round(p).toLocaleString('en')}/s`,
      `${(o / p).toFixed(2)}x`,
    ]);
  }
  printTable(['scheme', 'body', 'patchbay (median)', 'peer (median)', 'ratio'], rows);
}

await main();
