import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  /** Which of the receiver's secrets verified the signature (index), or -1. */
  verifiedWith: number;
  webhookId: string;
}

export type Behaviour = (req: Received, res: ServerResponse) => unknown;

/**
 * A webhook receiver on 127.0.0.1 that verifies every request with the independent `standardwebhooks`
 * library, records what it got, and answers as `behaviour` says (200 by default).
 */
export class Receiver {
  readonly received: Received[] = [];
  behaviour: Behaviour = (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  };
  private server: Server | undefined;
  private readonly verifiers: Webhook[];

  constructor(secrets: readonly string[]) {
    this.verifiers = secrets.map((s) => new Webhook(s));
  }

  get url(): string {
    const { port } = this.server!.address() as AddressInfo;
    return `http://127.0.0.1:${port}/hooks`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const headers = {
          'webhook-id': String(req.headers['webhook-id']),
          'webhook-timestamp': String(req.headers['webhook-timestamp']),
          'webhook-signature': String(req.headers['webhook-signature']),
        };
        const verifiedWith = this.verifiers.findIndex((v) => {
          try {
            v.verify(body, headers);
            return true;
          } catch {
            return false;
          }
        });
        const received = { headers: req.headers, body, verifiedWith, webhookId: headers['webhook-id'] };
        this.received.push(received);
        this.behaviour(received, res);
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
