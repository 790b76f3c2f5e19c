import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Clock } from '../../core/clock.js';
import type { PatchbayConfig } from '../../core/config/index.js';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { BodyBudget, reserveBody } from './body-budget.js';
import { type ConnectionLimits, ConnectionSupervisor } from './connection-supervisor.js';

export { BodyBudget } from './body-budget.js';
export { type ConnectionLimits, ConnectionSupervisor } from './connection-supervisor.js';
export { answerClientError, rawAnswer } from './raw-answer.js';

/** Without `trustProxy`, the cap per client address; with it, every client shares the proxy's address. */
const DEFAULT_PER_ADDRESS = 256;

/** What `app.listen` takes from the configuration: the address, and the listen backlog. */
export function listenOptions(server: PatchbayConfig['server']): {
  host: string;
  port: number;
  backlog: number;
} {
  return { host: server.host, port: server.port, backlog: server.limits.listenBacklog };
}

/** `server.limits` as the supervisor takes it. */
export function connectionLimits(server: PatchbayConfig['server']): ConnectionLimits {
  const { limits } = server;
  return {
    headersTimeoutMs: limits.headersTimeout,
    bodyTimeoutMs: limits.bodyTimeout,
    keepAliveTimeoutMs: limits.keepAliveTimeout,
    maxConnections: limits.maxConnections,
    maxConnectionsPerAddress:
      limits.maxConnectionsPerAddress ?? (server.trustProxy ? Number.POSITIVE_INFINITY : DEFAULT_PER_ADDRESS),
  };
}

/**
 * Puts the server's limits on `app`: the connection supervisor on its HTTP server, and the in-flight
 * body budget on every request. `largestBody` is the largest body any route reads (the ingress may allow
 * more than `bodyLimit`); the budget must hold one of those.
 */
export function applyServerLimits(
  app: FastifyInstance,
  server: PatchbayConfig['server'],
  options: { clock: Clock; registry: Registry; largestBody: number },
): ConnectionSupervisor {
  const { inflightBodyLimit } = server.limits;
  if (inflightBodyLimit < options.largestBody) {
    throw new PatchbayError(
      ErrorCode.CONFIG_INVALID,
      `server.limits.inflightBodyLimit (${inflightBodyLimit} bytes) must be at least the largest body a route reads (${options.largestBody} bytes, a source's bodyLimit)`,
    );
  }
  const supervisor = new ConnectionSupervisor(connectionLimits(server), options.clock, options.registry);
  supervisor.attach(app.server);
  app.addHook('preParsing', reserveBody(new BodyBudget(inflightBodyLimit, options.registry)));
  app.addHook('preClose', async () => supervisor.closeWaiting());
  return supervisor;
}
