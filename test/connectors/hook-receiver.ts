import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Hit {
  headers: IncomingMessage['headers'];
  /** The raw body, exactly as received (signatures cover these bytes). */
  body: string;
}

/**
 * A plain webhook receiver on 127.0.0.1 for the provider fakes' outgoing webhooks: records every
 * request and answers as `answer` says (200 by default). `next()` waits for the next hit.
 */
export class HookReceiver {
  readonly hits: Hit[] = [];
  answer: (hit: Hit, res: ServerResponse) => void = (_hit, res) => res.writeHead(200).end('ok');
  private server: Server | undefined;
  private waiters: (() => void)[] = [];

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}/hook`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const hit = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
        this.hits.push(hit);
        this.answer(hit, res);
        for (const wake of this.waiters.splice(0)) wake();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** Resolves once at least `count` requests have arrived. */
  async waitFor(count: number, timeoutMs = 5000): Promise<Hit[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.hits.length < count) {
      if (Date.now() > deadline)
        throw new Error(`expected ${count} webhook requests, got ${this.hits.length}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100).unref();
      });
    }
    return this.hits;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
