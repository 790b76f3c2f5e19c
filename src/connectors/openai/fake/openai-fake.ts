import type { FastifyInstance } from 'fastify';
import {
  type FakeKit,
  type FakeProvider,
  type FakeServerOptions,
  type RunningFake,
  startFakeServer,
} from '../../fake-kit/index.js';
import { Admission, type AdmissionOptions } from './admission.js';
import type { ModelLimits } from './budgets.js';
import { chatCompletionRoutes, type ScriptedReply } from './chat-completions.js';
import { embeddingRoutes } from './embeddings.js';
import { type FakeModel, MODELS } from './models.js';
import { ERRORS, sendOpenAIError } from './openai-errors.js';

export interface OpenAIFakeOptions extends FakeServerOptions, AdmissionOptions {
  /** Pause between streamed chunks, in ms. Defaults to 0. */
  chunkDelayMs?: number;
}

export interface RunningOpenAIFake extends RunningFake {
  /** The `baseURL` to give the `openai` SDK: the fake's URL plus `/v1`. */
  readonly baseURL: string;
}

interface SeedInput {
  replies?: ScriptedReply[];
  /** Tokens a key may still spend (`*` for all keys); 0 makes its next call a 429 `insufficient_quota`. */
  quota?: Record<string, number>;
  /** The next N model calls answer 503 overloaded with `x-should-retry: true`. */
  overloaded?: number;
  limits?: Record<string, ModelLimits>;
}

/**
 * OpenAI's API as the fake serves it under `/v1`: chat completions (deterministic; streamed as SSE),
 * embeddings (deterministic; float or base64 float32), models, the request and token budgets per key
 * and model with `x-ratelimit-*` headers and Go-duration resets, 429 `rate_limit_exceeded` (with
 * `retry-after-ms`) apart from 429 `insufficient_quota`, and errors as `{error:{message,type,param,code}}`.
 * The `openai` SDK works against it unmodified.
 */
export function openaiFake(options: OpenAIFakeOptions = {}): FakeProvider {
  const models = new Map<string, FakeModel>(MODELS.map((m) => [m.id, m]));
  let admission: Admission | undefined;
  const replies: ScriptedReply[] = [];
  return {
    name: 'openai',
    routes(app: FastifyInstance, k: FakeKit) {
      admission ??= new Admission(options, k);
      const a = admission;
      app.setNotFoundHandler((request, reply) =>
        sendOpenAIError(reply, 404, ERRORS.notFound(request.method, request.url.split('?')[0]!)),
      );
      app.setErrorHandler((error: { statusCode?: number }, _request, reply) =>
        (error.statusCode ?? 500) < 500
          ? sendOpenAIError(reply, error.statusCode!, ERRORS.badJson)
          : sendOpenAIError(reply, 500, ERRORS.server),
      );
      chatCompletionRoutes(
        app,
        { admission: a, models, replies, chunkDelayMs: options.chunkDelayMs ?? 0 },
        k,
      );
      embeddingRoutes(app, { admission: a, models }, k);
      app.get('/v1/models', async (request, reply) => {
        if (!a.key(request, reply)) return reply;
        return { object: 'list', data: [...models.values()].map(modelObject) };
      });
      app.get('/v1/models/:id', async (request, reply) => {
        if (!a.key(request, reply)) return reply;
        const model = models.get((request.params as { id: string }).id);
        if (!model) return sendOpenAIError(reply, 404, ERRORS.model((request.params as { id: string }).id));
        return modelObject(model);
      });
    },
    describe() {
      return {
        apiKeys: options.apiKey ? 'only the key given with --api-key' : 'any key of the form sk-…',
        baseURL: '/v1',
        models: [...models.values()].map((m) => ({
          id: m.id,
          kind: m.kind,
          limits: admission?.limits[m.id] ?? m.limits,
        })),
      };
    },
    reset() {
      admission?.reset();
      replies.length = 0;
    },
    seed(input: unknown) {
      const seed = (input ?? {}) as SeedInput;
      if (seed.replies) replies.unshift(...seed.replies);
      for (const [key, tokens] of Object.entries(seed.quota ?? {})) admission?.quota.set(key, tokens);
      if (seed.overloaded !== undefined && admission) admission.overloaded = seed.overloaded;
      if (seed.limits && admission) Object.assign(admission.limits, seed.limits);
      return { replies: replies.length };
    },
  };
}

const modelObject = (model: FakeModel) => ({
  id: model.id,
  object: 'model',
  created: 1_715_367_049,
  owned_by: 'system',
});

/** Starts the OpenAI fake on 127.0.0.1 (see `openaiFake`). */
export async function startOpenAIFake(options: OpenAIFakeOptions = {}): Promise<RunningOpenAIFake> {
  const running = await startFakeServer(openaiFake(options), options);
  return { ...running, baseURL: `${running.url}/v1` };
}
