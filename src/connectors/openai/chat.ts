import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { HttpRequest } from '../../http/http-types.js';

/** A chat completion request, in OpenAI's own field names; fields not listed pass through. */
export interface ChatRequest {
  model: string;
  messages: { role: string; content: unknown; [field: string]: unknown }[];
  max_tokens?: number;
  max_completion_tokens?: number;
  n?: number;
  temperature?: number;
  stream_options?: { include_usage?: boolean };
  [field: string]: unknown;
}

const usageSchema = z
  .object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() })
  .loose();

export const chatCompletionSchema = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion'),
    created: z.number(),
    model: z.string(),
    choices: z.array(
      z
        .object({
          index: z.number(),
          finish_reason: z.string().nullable(),
          message: z
            .object({ role: z.string(), content: z.string().nullable(), refusal: z.string().nullish() })
            .loose(),
        })
        .loose(),
    ),
    usage: usageSchema.optional(),
  })
  .loose();

export const chatChunkSchema = z
  .object({
    id: z.string(),
    object: z.literal('chat.completion.chunk'),
    created: z.number(),
    model: z.string(),
    choices: z.array(
      z
        .object({
          index: z.number(),
          delta: z.object({ role: z.string().optional(), content: z.string().nullish() }).loose(),
          finish_reason: z.string().nullable(),
        })
        .loose(),
    ),
    usage: usageSchema.nullish(),
  })
  .loose();

export type ChatCompletion = z.output<typeof chatCompletionSchema>;
export type ChatCompletionChunk = z.output<typeof chatChunkSchema>;

/**
 * `POST /chat/completions`. A completion is safe to ask for twice (it costs, it changes nothing), so
 * each call carries an idempotency key: the client then retries its 429s and 5xx like a GET's.
 */
export function chatRequest(
  body: ChatRequest,
  headers: Record<string, string>,
  options: { stream?: boolean; signal?: AbortSignal } = {},
): HttpRequest {
  return {
    method: 'POST',
    path: '/chat/completions',
    headers,
    body: options.stream ? { ...body, stream: true } : { ...body, stream: false },
    idempotencyKey: `patchbay-${randomUUID()}`,
    ...(options.stream ? { stream: true } : { schema: chatCompletionSchema }),
    ...(options.signal && { signal: options.signal }),
  };
}
