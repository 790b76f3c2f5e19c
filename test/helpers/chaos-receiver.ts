import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ChaosOptions {
  /** Share of requests that fail, spread evenly over 503, 429 + Retry-After, hang and reset. */
  failureRate: number;
  secret: string;
  /** Seeded randomness so a failing run can be replayed. */
  seed?: number;
}

/** Tiny deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A receiver that misbehaves for a random share of requests (503, 429 with Retry-After, hanging until the
 * sender gives up, resetting the connection) and otherwise "processes" the webhook — deduping on
 * `webhook-id` as Standard Webhooks receivers should — and answers 204.
 */
export class ChaosReceiver {
  /** Requests seen, all outcomes. */
  requests = 0;
  /** webhook-id → times it was processed (answered 2xx). */
  readonly processed = new Map<string, number>();
  /** webhook-ids answered 2xx again after being processed (the receiver deduped them). */
  duplicates = 0;
  badSignatures = 0;
  readonly outcomes: Record<string, number> = { ok: 0, '503': 0, '429': 0, hang: 0, reset: 0 };
  private server: Server | undefined;
  private readonly random: () => number;
  private readonly webhook: Webhook;

  constructor(private readonly options: ChaosOptions) {
    this.random = prng(options.seed ?? 42);
    this.webhook = new Webhook(options.secret);
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/hooks`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        const body = Buffer.concat(chunks).toString('utf8');
        const id = String(req.headers['webhook-id']);
        try {
          this.webhook.verify(body, {
            'webhook-id': id,
            'webhook-timestamp': String(req.headers['webhook-timestamp']),
            'webhook-signature': String(req.headers['webhook-signature']),
          });
        } catch {
          this.badSignatures++;
          res.writeHead(401).end();
          return;
        }
        const roll = this.random();
        const slice = this.options.failureRate / 4;
        if (roll < slice) {
          this.outcomes['503']!++;
          res.writeHead(503).end('busy');
        } else if (roll < 2 * slice) {
          this.outcomes['429']!++;
          res.writeHead(429, { 'retry-after': '1' }).end();
        } else if (roll < 3 * slice) {
          this.outcomes.hang!++; // never answers; the sender's timeout ends it
        } else if (roll < 4 * slice) {
          this.outcomes.reset!++;
          req.socket.destroy();
        } else {
          this.outcomes.ok!++;
          const seen = this.processed.get(id) ?? 0;
          if (seen > 0) this.duplicates++;
          else this.processed.set(id, 1);
          res.writeHead(204).end();
        }
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
