import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { Histogram } from 'prom-client';
import { isLoopbackHost } from '../core/api/admin-exposure.js';
import { ulid } from '../core/ids.js';
import { tracingOn } from '../core/tracing.js';
import type { Engine } from '../engine/index.js';
import { adminAuth } from './admin-auth.js';
import { adminRequestGuard } from './admin-request-guard.js';
import { errorBody, handleError, handleFrameworkError, MAX_PARAM_LENGTH } from './errors.js';
import { useJsonBody } from './json-body.js';
import { answerClientError, applyServerLimits } from './limits/index.js';
import { completeDocument, openapiOptions } from './openapi.js';
import { traceRequests } from './request-tracing.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { strictQuery } from './strict-query.js';

/** A route plugin mounted under `/api/v1`, behind the admin token. */
export type AdminRoutes = (app: FastifyInstance, engine: Engine) => Promise<void>;
/** A route plugin mounted at the root, outside the admin API (webhook ingress, OAuth callback). */
export type PublicRoutes = (app: FastifyInstance, engine: Engine) => Promise<void>;

export interface ServerOptions {
  /** Extra admin route plugins (each feature brings its own). */
  adminRoutes?: AdminRoutes[];
  /** Extra public route plugins. */
  publicRoutes?: PublicRoutes[];
}

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/**
 * The Fastify app: health, metrics, OpenAPI, and every module's routes — admin ones under `/api/v1`
 * behind the admin token, public ones (webhook ingress, OAuth callback) at the root. Built from an
 * Engine; knows nothing of stores or of any module's internals.
 */
export async function buildServer(engine: Engine, options: ServerOptions = {}): Promise<FastifyInstance> {
  const { server } = engine.config;
  const app = Fastify({
    loggerInstance: engine.logger as FastifyBaseLogger,
    // One line per request at 10k req/s would cost more than the request; errors are still logged.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'requestId' }),
    bodyLimit: server.bodyLimit,
    trustProxy: server.trustProxy,
    // Callers may pass their own id to correlate; anything odd is replaced so it cannot inject log lines.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : ulid();
    },
    requestIdHeader: false,
    return503OnClosing: true,
    // The connection supervisor (limits/) owns the header and body deadlines; Node's own are checked
    // only every 30 s. Its keep-alive timer closes idle sockets on time and announces the timeout.
    http: { headersTimeout: 0, requestTimeout: 0 },
    requestTimeout: 0,
    keepAliveTimeout: server.limits.keepAliveTimeout,
    clientErrorHandler: answerClientError,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: handleFrameworkError,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', allErrors: false } },
  });

  const duration = new Histogram({
    name: 'patchbay_http_request_duration_seconds',
    help: 'HTTP requests served, by method, route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [engine.registry],
  });

  if (tracingOn()) traceRequests(app);
  applyServerLimits(app, server, {
    clock: engine.clock,
    registry: engine.registry,
    largestBody: engine.events.ingressBodyLimit,
  });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    duration.observe(
      { method: request.method, route, status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
    request.log.debug(
      { method: request.method, route, status: reply.statusCode, ms: reply.elapsedTime },
      'request',
    );
  });
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send(errorBody(request, 'NOT_FOUND', `no route for ${request.method} ${request.url.split('?')[0]}`));
  });

  await app.register(fastifySwagger, openapiOptions());

  await app.register(async (root) => {
    await healthRoutes(root, engine);
    await metricsRoutes(root, engine);
    for (const module of engine.modules) if (module.publicRoutes) await module.publicRoutes(root);
    for (const routes of options.publicRoutes ?? []) await routes(root, engine);
  });

  // The dashboard's pages: the admin API's Host and Origin rules, with forms and inbound links allowed.
  await app.register(async (browser) => {
    browser.addHook('onRequest', adminRequestGuard({ allowedHosts: adminHosts(server), browser: true }));
    for (const module of engine.modules) if (module.browserRoutes) await module.browserRoutes(browser);
  });

  await app.register(
    async (api) => {
      api.addHook('onRequest', adminRequestGuard({ allowedHosts: adminHosts(server) }));
      useJsonBody(api);
      // Preflights reach the guard (which refuses them) only through a route of this scope.
      api.options('/*', { schema: { hide: true } }, async () => undefined);
      // Response schemas document the answers; they do not filter or coerce them (decision 0110).
      api.setSerializerCompiler(() => (data) => JSON.stringify(data));
      let document: object | undefined;
      api.get('/openapi.json', { schema: { hide: true } }, async () => {
        document ??= completeDocument(app.swagger() as never);
        return document;
      });
      await api.register(async (secured) => {
        secured.addHook('onRequest', adminAuth(server.adminToken));
        secured.addHook('onRoute', strictQuery);
        for (const module of engine.modules) if (module.adminRoutes) await module.adminRoutes(secured);
        for (const routes of options.adminRoutes ?? []) await routes(secured, engine);
      });
    },
    { prefix: '/api/v1' },
  );

  return app;
}

/** The names the admin API answers to besides loopback: `server.allowedHosts`, and the bound address. */
function adminHosts(server: Engine['config']['server']): string[] {
  const wildcard = server.host === '0.0.0.0' || server.host === '::' || server.host === '';
  return wildcard || isLoopbackHost(server.host)
    ? [...server.allowedHosts]
    : [...server.allowedHosts, server.host.replace(/^\[|\]$/g, '')];
}
