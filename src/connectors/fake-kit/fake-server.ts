import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { FakeProviderClock } from './fake-clock.js';
import { FaultInjector, type FaultRule } from './faults.js';

/** What a request body that is not valid JSON parses to; each fake answers it in its provider's words. */
export const INVALID_JSON: unique symbol = Symbol('invalid JSON');

declare module 'fastify' {
  interface FastifyRequest {
    /** The body's bytes exactly as received (signatures, echo checks). */
    rawBody?: Buffer;
    /** Set by a `holdAnswerMs` fault: the answer waits this long after the provider handled the request. */
    holdAnswerMs?: number;
  }
}

/** Shared by a fake's routes: its clock, its faults, and its request counters. */
export interface FakeKit {
  readonly clock: FakeProviderClock;
  readonly faults: FaultInjector;
  /** Counts something provider-specific in `/_fake/stats` (e.g. `429:TEN_SECONDLY_ROLLING`). */
  count(name: string, by?: number): void;
  /** The origin this request came in on (`http://127.0.0.1:1234` or the https one): links point back at it. */
  origin(request: FastifyRequest): string;
}

/** A provider's behaviour, plugged into the shared server and control plane. */
export interface FakeProvider {
  /** `hubspot`, `msgraph`…: shown at `GET /_fake`. */
  readonly name: string;
  /** Registers the provider's API routes; called once per listening protocol with the same state. */
  routes(app: FastifyInstance, kit: FakeKit): void | Promise<void>;
  /** What `GET /_fake` shows besides the control plane: default registrations, seeded users… */
  describe?(kit: FakeKit): Record<string, unknown>;
  /** Back to the state right after start (`POST /_fake/reset`). */
  reset(kit: FakeKit): void | Promise<void>;
  /** Adds data (`POST /_fake/seed`); returns what was made. */
  seed?(input: unknown, kit: FakeKit): unknown | Promise<unknown>;
  /** Provider-specific figures merged into `GET /_fake/stats`. */
  stats?(kit: FakeKit): Record<string, unknown>;
  /** Stops the provider's own work (outgoing webhooks…). */
  close?(): void | Promise<void>;
}

export interface FakeServerOptions {
  /** Port of the plain-http listener. Defaults to an ephemeral one. */
  port?: number;
  /** Defaults to 127.0.0.1: a fake is for tests on this machine. */
  host?: string;
  /** Also serve https with this key and certificate (PEM), on `httpsPort` (ephemeral by default). */
  tls?: { key: string; cert: string; port?: number };
  /** Body size limit in bytes. Defaults to 10 MB. */
  bodyLimit?: number;
}

export interface RunningFake {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `https://127.0.0.1:<port>` when started with `tls`. */
  readonly httpsUrl: string | undefined;
  readonly clock: FakeProviderClock;
  readonly faults: FaultInjector;
  close(): Promise<void>;
}

/**
 * Serves a fake provider on 127.0.0.1 with the control plane every fake shares, under `/_fake/`:
 * `GET /_fake` (what it is, its registrations), `POST /_fake/reset`, `POST /_fake/seed`,
 * `POST|GET|DELETE /_fake/faults`, `POST /_fake/clock` (`{ advanceMs }`, `{ now }`, `{ freeze: true|false }`), `GET /_fake/stats`.
 */
export async function startFakeServer(
  provider: FakeProvider,
  options: FakeServerOptions = {},
): Promise<RunningFake> {
  const clock = new FakeProviderClock();
  const faults = new FaultInjector();
  const counters = new Map<string, number>();
  const count = (name: string, by = 1) => counters.set(name, (counters.get(name) ?? 0) + by);
  const host = options.host ?? '127.0.0.1';
  const held = new Set<() => void>();
  const hold = (ms: number) =>
    new Promise<void>((resolve) => {
      const release = () => {
        clearTimeout(timer);
        held.delete(release);
        resolve();
      };
      const timer = setTimeout(release, ms);
      held.add(release);
    });
  const kit: FakeKit = {
    clock,
    faults,
    count,
    origin: (request) => `${request.protocol}://${request.host}`,
  };

  const build = async (tls?: { key: string; cert: string }) => {
    const app = (
      tls
        ? Fastify({ https: { key: tls.key, cert: tls.cert }, bodyLimit: options.bodyLimit ?? 10 << 20 })
        : Fastify({ bodyLimit: options.bodyLimit ?? 10 << 20 })
    ) as FastifyInstance;
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body: Buffer, done) => {
      request.rawBody = body;
      const type = request.headers['content-type'] ?? '';
      if (/json/i.test(type)) {
        if (body.length === 0) return done(null, undefined);
        try {
          return done(null, JSON.parse(body.toString('utf8')));
        } catch {
          return done(null, INVALID_JSON);
        }
      }
      done(null, body);
    });
    app.addHook('onRequest', async (request, reply) => {
      const path = request.url.split('?')[0]!;
      if (path.startsWith('/_fake')) return;
      count('requests');
      const rule = faults.take(request.method, path);
      if (!rule) return;
      count('faults');
      if (rule.delayMs) await new Promise((resolve) => setTimeout(resolve, rule.delayMs));
      if (rule.reset) {
        request.raw.socket.destroy();
        return reply.hijack();
      }
      if (rule.holdAnswerMs) request.holdAnswerMs = rule.holdAnswerMs;
      if (rule.status !== undefined) {
        return reply
          .status(rule.status)
          .headers(rule.headers ?? {})
          .send(rule.body === undefined ? '' : rule.body);
      }
    });
    app.addHook('onSend', async (request, _reply, payload) => {
      if (request.holdAnswerMs) await hold(request.holdAnswerMs);
      return payload;
    });
    app.addHook('onResponse', async (request, reply) => {
      if (request.url.startsWith('/_fake')) return;
      count(`status:${reply.statusCode}`);
    });
    controlPlane(app, provider, kit, counters);
    await provider.routes(app, kit);
    return app;
  };

  const plain = await build();
  await plain.listen({ host, port: options.port ?? 0 });
  let secure: FastifyInstance | undefined;
  if (options.tls) {
    secure = await build(options.tls);
    await secure.listen({ host, port: options.tls.port ?? 0 });
  }
  const portOf = (app: FastifyInstance) => (app.server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${portOf(plain)}`,
    httpsUrl: secure ? `https://${host}:${portOf(secure)}` : undefined,
    clock,
    faults,
    async close() {
      for (const release of [...held]) release();
      await provider.close?.();
      clock.close();
      await Promise.all([plain.close(), secure?.close()]);
    },
  };
}

function controlPlane(
  app: FastifyInstance,
  provider: FakeProvider,
  kit: FakeKit,
  counters: Map<string, number>,
): void {
  const bad = (reply: FastifyReply, message: string) => reply.status(400).send({ error: message });
  app.get('/_fake', async () => ({
    provider: provider.name,
    now: new Date(kit.clock.now()).toISOString(),
    control: [
      'POST /_fake/reset',
      'POST /_fake/seed',
      'POST /_fake/faults',
      'POST /_fake/clock',
      'GET /_fake/stats',
    ],
    ...provider.describe?.(kit),
  }));
  app.post('/_fake/reset', async () => {
    kit.faults.clear();
    kit.clock.reset();
    counters.clear();
    await provider.reset(kit);
    return { reset: true };
  });
  app.post('/_fake/seed', async (request, reply) => {
    if (!provider.seed) return reply.status(404).send({ error: `the ${provider.name} fake takes no seed` });
    if (request.body === INVALID_JSON) return bad(reply, 'the seed must be JSON');
    try {
      return { seeded: await provider.seed(request.body, kit) };
    } catch (err) {
      // A seed is the test's input: what the provider refuses is the caller's mistake, said plainly.
      return bad(reply, err instanceof Error ? err.message : String(err));
    }
  });
  app.get('/_fake/faults', async () => ({ rules: kit.faults.list() }));
  app.delete('/_fake/faults', async () => {
    kit.faults.clear();
    return { rules: [] };
  });
  app.post('/_fake/faults', async (request, reply) => {
    const body = request.body as { rules?: unknown } | FaultRule | typeof INVALID_JSON | undefined;
    if (body === undefined || body === INVALID_JSON || typeof body !== 'object') {
      return bad(reply, 'send { "rules": [ { "path": "/…", "status": 503, "times": 1 } ] }');
    }
    const rules = 'rules' in body ? body.rules : [body];
    if (!Array.isArray(rules) || rules.some((r) => typeof r !== 'object' || r === null)) {
      return bad(reply, 'rules must be an array of objects');
    }
    kit.faults.add(rules as FaultRule[]);
    return { rules: kit.faults.list() };
  });
  app.post('/_fake/clock', async (request, reply) => {
    const body = request.body as { advanceMs?: unknown; now?: unknown; freeze?: unknown } | undefined;
    if (typeof body?.freeze === 'boolean') {
      if (body.freeze) kit.clock.freeze();
      else kit.clock.thaw();
    } else if (typeof body?.advanceMs === 'number' && body.advanceMs >= 0) kit.clock.advance(body.advanceMs);
    else if (typeof body?.now === 'number' || typeof body?.now === 'string')
      kit.clock.set(typeof body.now === 'number' ? body.now : Date.parse(body.now));
    else
      return bad(
        reply,
        'send { "advanceMs": 60000 }, { "now": "2026-01-01T00:00:00Z" } or { "freeze": true }',
      );
    return { now: new Date(kit.clock.now()).toISOString() };
  });
  app.get('/_fake/stats', async () => ({
    counters: Object.fromEntries(counters),
    ...provider.stats?.(kit),
  }));
}
