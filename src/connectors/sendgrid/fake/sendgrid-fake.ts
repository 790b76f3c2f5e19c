import type { FastifyInstance } from 'fastify';
import {
  type FakeKit,
  type FakeProvider,
  type FakeServerOptions,
  FixedWindows,
  type PeriodLimit,
  type RunningFake,
  startFakeServer,
} from '../../fake-kit/index.js';
import { type Access, apiGuard } from './api-guard.js';
import { EventWebhook } from './event-webhook.js';
import { type Fate, MailLog } from './mail-log.js';
import { mailRoutes } from './mail-routes.js';
import { DEFAULT_LIMITS, type LimitGroup } from './rate-limits.js';
import { MESSAGES, sendError } from './sendgrid-errors.js';
import { TemplateStore, templateRoutes } from './templates.js';
import { webhookRoutes } from './webhook-routes.js';

export interface SendGridFakeOptions extends FakeServerOptions {
  /** Accept only this API key (others get SendGrid's 401). Defaults to any key of the form `SG.<id>.<secret>`. */
  apiKey?: string;
  /** Post the Event Webhook here from the start (settings can change it later, as at SendGrid). */
  webhookUrl?: string;
  /** How long a sent mail takes to show in the Email Activity feed, in ms. Defaults to 2 s. */
  activityDelayMs?: number;
  /** Requests per refresh period, by endpoint group. Defaults to `DEFAULT_LIMITS`. */
  limits?: Partial<Record<LimitGroup, PeriodLimit>>;
}

export interface RunningSendGridFake extends RunningFake {
  /** The Event Webhook verification key (base64 SPKI DER), as SendGrid's settings page shows it. */
  readonly publicKey: string;
}

interface SeedInput {
  apiKeys?: { key: string; scopes?: string[] }[];
  /** What happens to mail for these addresses: `bounce` or `dropped` instead of `delivered`. */
  fates?: Record<string, Fate>;
  limits?: Partial<Record<LimitGroup, PeriodLimit>>;
  templates?: { name: string; generation?: 'legacy' | 'dynamic'; subject?: string; html?: string }[];
}

const API_KEY = /^SG\.[\w-]+\.[\w-]+$/;

/**
 * SendGrid's v3 API as the fake serves it: mail send (202 with `X-Message-Id`, validation errors,
 * sandbox mode answering 200), templates, the Email Activity feed (with its lag and its 6-a-minute
 * limit), Event Webhook settings and signed event posts, per-endpoint rate limits with
 * `X-RateLimit-*` on every answer. `@sendgrid/mail` works against it unmodified.
 */
export function sendgridFake(options: SendGridFakeOptions = {}) {
  const log = new MailLog();
  const limiter = new FixedWindows<LimitGroup>({ ...DEFAULT_LIMITS, ...options.limits });
  const keys = new Map<string, Access>();
  const fates = new Map<string, Fate>();
  let templates: TemplateStore | undefined;
  let webhook: EventWebhook | undefined;
  const activityDelayMs = options.activityDelayMs ?? 2_000;
  const counts = { sandbox: 0 };

  const ready = (k: FakeKit) => {
    templates ??= new TemplateStore(() => k.clock.now());
    webhook ??= new EventWebhook(k.clock, options.webhookUrl);
    return { templates, webhook };
  };

  const provider: FakeProvider & { webhook(): EventWebhook | undefined } = {
    name: 'sendgrid',
    webhook: () => webhook,

    routes(app: FastifyInstance, k: FakeKit) {
      const state = ready(k);
      app.setNotFoundHandler((_request, reply) => sendError(reply, 404, MESSAGES.notFound));
      app.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
        const status = error.statusCode ?? 500;
        sendError(
          reply,
          status,
          status === 413 ? 'Payload Too Large' : status >= 500 ? 'internal error' : MESSAGES.badRequest,
        );
      });

      const guard = apiGuard({ limiter, accessOf, now: () => k.clock.now(), count: k.count });

      mailRoutes(app, { log, fates, activityDelayMs, counts, ...state }, guard, k);
      templateRoutes(app, state.templates, guard('templates'));
      webhookRoutes(app, state.webhook, guard('webhooks'), k);
    },

    describe() {
      return {
        apiKeys: options.apiKey
          ? 'only the key given with --api-key'
          : 'any key of the form SG.<id>.<secret>',
        eventWebhook: webhook && {
          url: webhook.settings.url || null,
          enabled: webhook.settings.enabled,
          signed: webhook.signed,
          publicKey: webhook.publicKey,
        },
        activityDelayMs,
        limits: limiter.current(),
        extra: ['GET /_fake/messages', 'POST /_fake/events'],
      };
    },

    reset() {
      log.clear();
      limiter.configure({ ...DEFAULT_LIMITS, ...options.limits });
      keys.clear();
      fates.clear();
      templates?.clear();
      webhook?.reset();
      counts.sandbox = 0;
    },

    seed(input: unknown) {
      const seed = (input ?? {}) as SeedInput;
      for (const { key, scopes } of seed.apiKeys ?? []) keys.set(key, scopes ? new Set(scopes) : 'all');
      for (const [email, fate] of Object.entries(seed.fates ?? {})) fates.set(email.toLowerCase(), fate);
      if (seed.limits) limiter.configure(seed.limits);
      const made = (seed.templates ?? []).map((t) => {
        const template = templates!.create(t.name, t.generation ?? 'dynamic');
        if (t.subject !== undefined) {
          templates!.addVersion(template, {
            name: 'v1',
            subject: t.subject,
            html_content: t.html ?? '',
            active: 1,
          });
        }
        return template.id;
      });
      return { templates: made };
    },

    stats() {
      return {
        messages: log.messages.length,
        recipients: log.messages.reduce((n, m) => n + m.copies.length, 0),
        sandbox: counts.sandbox,
        eventWebhook: webhook?.stats,
      };
    },

    close() {
      webhook?.close();
    },
  };

  function accessOf(key: string): Access | undefined {
    const seeded = keys.get(key);
    if (seeded) return seeded;
    if (options.apiKey !== undefined) return key === options.apiKey ? 'all' : undefined;
    return API_KEY.test(key) ? 'all' : undefined;
  }

  return provider;
}

/** Starts the SendGrid fake on 127.0.0.1 (see `sendgridFake`). */
export async function startSendGridFake(options: SendGridFakeOptions = {}): Promise<RunningSendGridFake> {
  const provider = sendgridFake(options);
  const running = await startFakeServer(provider, options);
  return { ...running, publicKey: provider.webhook()!.publicKey };
}
