import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@microsoft/microsoft-graph-client';
import { Agent } from 'undici';
import { type RunningMsGraphFake, startMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import type { MsGraphFakeOptions } from '../../../src/connectors/msgraph/fake/start-msgraph-fake.js';

/** Whatever Graph answered, read by assertions. */
// biome-ignore lint/suspicious/noExplicitAny: tests index into answers freely
export type Json = any;

export async function startFake(options: MsGraphFakeOptions = {}): Promise<RunningMsGraphFake> {
  return startMsGraphFake(options);
}

/** An undici agent trusting the fake's self-signed certificate. */
export function trusting(fake: RunningMsGraphFake): Agent {
  return new Agent({ connect: { ca: fake.ca! } });
}

/** A client-credentials token from the fake's token endpoint, as an app would fetch it. */
export async function fetchToken(
  fake: RunningMsGraphFake,
  dispatcher?: Agent,
  secret = fake.app.clientSecret,
): Promise<string> {
  const response = await fetch(
    dispatcher ? fake.tokenUrl : `${fake.url}/${fake.app.tenantId}/oauth2/v2.0/token`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        client_id: fake.app.clientId,
        client_secret: secret,
        scope: 'https://graph.microsoft.com/.default',
        grant_type: 'client_credentials',
      }),
      ...(dispatcher && { dispatcher: dispatcher as never }),
    },
  );
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { access_token: string }).access_token;
}

/**
 * The official Graph client, unmodified, pointed at the fake the documented way: `baseUrl`, the fake's
 * host in `customHosts` (its auth middleware only sends tokens to https Graph or custom hosts), an auth
 * provider fetching the fake's token, and a dispatcher trusting the fake's certificate.
 */
export function graphClient(
  fake: RunningMsGraphFake,
  dispatcher = trusting(fake),
): { client: Client; tokens: () => number } {
  let fetched = 0;
  let cached: string | undefined;
  const client = Client.init({
    baseUrl: `${fake.httpsUrl}/`,
    customHosts: new Set(['127.0.0.1']),
    fetchOptions: { dispatcher } as never,
    authProvider: (done) => {
      if (cached) return done(null, cached);
      fetchToken(fake, dispatcher).then(
        (token) => {
          fetched++;
          cached = token;
          done(null, token);
        },
        (err) => done(err, null),
      );
    },
  });
  return { client, tokens: () => fetched };
}

/** A raw request to the fake's http listener with a fresh token. */
export async function graphFetch(
  fake: RunningMsGraphFake,
  token: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: Headers; body: Json }> {
  const url = !path.startsWith('http')
    ? `${fake.url}${path}`
    : fake.httpsUrl
      ? path.replace(fake.httpsUrl, fake.url)
      : path;
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers: {
      authorization: `Bearer ${token}`,
      ...(init.body !== undefined && { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body !== undefined && {
      body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, headers: response.headers, body };
}

export interface ReceivedNotification {
  path: string;
  body: Json;
  at: number;
}

/**
 * A notification endpoint on 127.0.0.1: echoes validation tokens (unless told not to) and records
 * notification POSTs. `mode` changes how it answers.
 */
export class NotificationReceiver {
  readonly received: ReceivedNotification[] = [];
  readonly validations: string[] = [];
  mode: 'ok' | 'fail' | 'no-echo' | 'wrong-type' = 'ok';
  private server: Server | undefined;

  get url(): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async start(): Promise<this> {
    this.server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url!, 'http://x');
        const token = url.searchParams.get('validationToken');
        if (token !== null) {
          this.validations.push(url.pathname);
          if (this.mode === 'no-echo')
            return res.writeHead(200, { 'content-type': 'text/plain' }).end('nope');
          if (this.mode === 'wrong-type')
            return res.writeHead(200, { 'content-type': 'application/json' }).end(token);
          if (this.mode === 'fail') return res.writeHead(500).end();
          return res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(token);
        }
        const text = Buffer.concat(chunks).toString('utf8');
        this.received.push({ path: url.pathname, body: JSON.parse(text), at: Date.now() });
        if (this.mode === 'fail') return res.writeHead(503).end();
        res.writeHead(202).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return this;
  }

  /** Resolves once `count` notification POSTs arrived at `path` (polls; fails after `timeoutMs`). */
  async waitFor(path: string, count = 1, timeoutMs = 5000): Promise<ReceivedNotification[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = this.received.filter((r) => r.path === path);
      if (got.length >= count) return got;
      if (Date.now() > deadline) throw new Error(`expected ${count} POSTs at ${path}, got ${got.length}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}
