import type { Readable } from 'node:stream';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { HttpClient } from '../../http/create-http-client.js';
import type { HttpRequest, HttpResponse } from '../../http/http-types.js';
import type { Connector, ConnectorContext } from '../provider.js';
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatRequest,
  chatChunkSchema,
  chatRequest,
} from './chat.js';
import { type OpenAISettings, openaiDefinition } from './definition.js';
import { decodeEmbedding, EMBEDDING_LIMITS, embeddingBatches, embeddingRequest } from './embeddings.js';
import { ModelBudgets } from './model-budgets.js';
import { sseJson } from './sse.js';
import { estimateChatTokens, estimateTokens } from './tokens.js';

export interface EmbedOptions {
  model: string;
  /** Shortens the v3 models' vectors. */
  dimensions?: number;
  /** Batches in flight at once. Defaults to 1. */
  concurrency?: number;
  /** Inputs per request. Defaults to OpenAI's 2,048. */
  batchSize?: number;
  signal?: AbortSignal;
}

export interface EmbeddingsResult {
  /** `success` when every input has its vector, `partial` when some batches failed, `failed` when all did. */
  outcome: 'success' | 'partial' | 'failed';
  /** One vector per input, in input order; undefined for the inputs of a failed batch. */
  embeddings: (number[] | undefined)[];
  usage: { prompt_tokens: number; total_tokens: number };
  /** The batches that failed as a whole (after the client's retries), with their input indexes. */
  failed: { inputs: number[]; error: unknown }[];
  /** A `PARTIAL` error summing up the failures, for callers that prefer to throw. */
  error: PatchbayError | undefined;
}

/** OpenAI's typed calls over a connection's client. Keep one per connection: it holds the learned budgets. */
export interface OpenAIApi {
  /** One chat completion; 429s (not `insufficient_quota`) and 5xx are retried by the client. */
  chat(request: ChatRequest, options?: { signal?: AbortSignal }): Promise<ChatCompletion>;
  /**
   * A streamed chat completion: resolves once OpenAI answers (its errors surface here, retried like
   * `chat`'s), then yields each `chat.completion.chunk` as it comes. Breaking out of the loop ends it.
   */
  chatStream(
    request: ChatRequest,
    options?: { signal?: AbortSignal },
  ): Promise<AsyncIterable<ChatCompletionChunk>>;
  /** Embeddings of many inputs, batched under OpenAI's per-request limits and the model's budget. */
  embed(inputs: readonly string[], options: EmbedOptions): Promise<EmbeddingsResult>;
  readonly budgets: ModelBudgets;
}

export function openaiApi(client: HttpClient, context: ConnectorContext<OpenAISettings>): OpenAIApi {
  const { settings, clock } = context;
  const budgets = new ModelBudgets({
    connectionId: context.connectionId,
    store: context.rateLimits,
    clock,
    limits: settings.limits,
  });
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(settings.organization && { 'openai-organization': settings.organization }),
    ...(settings.project && { 'openai-project': settings.project }),
  };
  const deadlineMs = openaiDefinition.timeouts!.deadlineMs!;

  /** Admits the call against the model's budgets, sends it, and tells the budgets what OpenAI said. */
  async function send<T>(model: string, tokens: number, request: HttpRequest<T>): Promise<HttpResponse<T>> {
    const admission = await budgets.admit(model, tokens, {
      ...(request.signal && { signal: request.signal }),
      deadline: clock.now() + deadlineMs,
    });
    let response: HttpResponse<T>;
    try {
      response = await client.request(request);
    } catch (error) {
      await admission.done(error instanceof PatchbayError ? error.headers : undefined, error);
      throw error;
    }
    await admission.done(response.headers);
    return response;
  }

  const checkModel = (model: unknown) => {
    if (typeof model !== 'string' || model === '') {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        'model must name an OpenAI model, e.g. "gpt-4o-mini"',
      );
    }
  };
  const checkChat = (request: ChatRequest) => {
    checkModel(request?.model);
    if (!Array.isArray(request.messages) || request.messages.length === 0) {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'messages must list at least one message');
    }
  };

  return {
    budgets,
    async chat(request, options = {}) {
      checkChat(request);
      const tokens = estimateChatTokens(request, settings.expectedCompletionTokens);
      const { body } = await send(request.model, tokens, chatRequest(request, headers, options));
      return body as ChatCompletion;
    },
    async chatStream(request, options = {}) {
      checkChat(request);
      const tokens = estimateChatTokens(request, settings.expectedCompletionTokens);
      const { body } = await send(
        request.model,
        tokens,
        chatRequest(request, headers, { ...options, stream: true }),
      );
      return chunks(body as Readable);
    },
    async embed(inputs, options) {
      checkModel(options?.model);
      if (!Array.isArray(inputs))
        throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'inputs must be an array of strings');
      const tpm = budgets.limitsOf(options.model)?.tpm ?? EMBEDDING_LIMITS.tokensPerRequest;
      const batches = embeddingBatches(
        inputs,
        Math.min(options.batchSize ?? EMBEDDING_LIMITS.inputs, EMBEDDING_LIMITS.inputs),
        Math.min(EMBEDDING_LIMITS.tokensPerRequest, tpm),
      );
      const embeddings: (number[] | undefined)[] = new Array(inputs.length).fill(undefined);
      const usage = { prompt_tokens: 0, total_tokens: 0 };
      const failed: EmbeddingsResult['failed'] = [];
      let next = 0;
      const worker = async () => {
        for (let b = next++; b < batches.length; b = next++) {
          const indexes = batches[b]!;
          const texts = indexes.map((i) => inputs[i]!);
          try {
            const request = embeddingRequest(options.model, texts, headers, {
              ...(options.dimensions !== undefined && { dimensions: options.dimensions }),
              ...(options.signal && { signal: options.signal }),
            });
            const cost = texts.reduce((sum, t) => sum + estimateTokens(t), 0);
            const { body } = await send(options.model, cost, request);
            for (const item of body.data) {
              const index = indexes[item.index];
              if (index === undefined) {
                throw new PatchbayError(
                  ErrorCode.RESPONSE_INVALID,
                  `an embedding came back for input ${item.index} of ${texts.length}`,
                );
              }
              embeddings[index] = decodeEmbedding(item.embedding);
            }
            usage.prompt_tokens += body.usage.prompt_tokens;
            usage.total_tokens += body.usage.total_tokens;
          } catch (error) {
            failed.push({ inputs: indexes, error });
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 1, batches.length) }, worker));
      failed.sort((a, b) => a.inputs[0]! - b.inputs[0]!);
      const lost = failed.reduce((n, f) => n + f.inputs.length, 0);
      const outcome = failed.length === 0 ? 'success' : lost === inputs.length ? 'failed' : 'partial';
      return {
        outcome,
        embeddings,
        usage,
        failed,
        error:
          failed.length === 0
            ? undefined
            : new PatchbayError(
                ErrorCode.PARTIAL,
                `${lost} of ${inputs.length} inputs got no embedding (${failed.length} batches failed)`,
                {
                  cause: failed[0]!.error,
                  data: { failedInputs: lost, failedBatches: failed.length },
                },
              ),
      };
    },
  };
}

/** The stream's chunks, each validated; an event that is not a chunk ends it with `RESPONSE_INVALID`. */
async function* chunks(body: Readable): AsyncGenerator<ChatCompletionChunk> {
  try {
    for await (const event of sseJson(body)) {
      const parsed = chatChunkSchema.safeParse(event);
      if (!parsed.success) {
        throw new PatchbayError(
          ErrorCode.RESPONSE_INVALID,
          'the stream sent an event that is not a chat.completion.chunk',
        );
      }
      yield parsed.data;
    }
  } finally {
    body.destroy();
  }
}

/** OpenAI as a connection gets it: the definition and the typed calls. */
export const openaiConnector: Connector<OpenAISettings, OpenAIApi> = {
  definition: openaiDefinition,
  api: (client, context) => openaiApi(client, context),
};
