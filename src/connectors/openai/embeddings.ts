import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { HttpRequest } from '../../http/http-types.js';
import { estimateTokens } from './tokens.js';

export const embeddingAnswerSchema = z.object({
  object: z.literal('list'),
  data: z.array(
    z.object({ index: z.number(), embedding: z.union([z.string(), z.array(z.number())]) }).loose(),
  ),
  model: z.string(),
  usage: z.object({ prompt_tokens: z.number(), total_tokens: z.number() }).loose(),
});

/** OpenAI's per-request limits for embeddings. https://platform.openai.com/docs/api-reference/embeddings/create */
export const EMBEDDING_LIMITS = { inputs: 2048, tokensPerRequest: 300_000, tokensPerInput: 8192 } as const;

/**
 * Splits inputs into requests OpenAI accepts: at most `maxInputs` each and `maxTokens` estimated tokens
 * (also under the model's per-minute budget, so every batch can ever be admitted). One input over the
 * model's context is refused before anything is sent, naming it.
 */
export function embeddingBatches(
  inputs: readonly string[],
  maxInputs: number,
  maxTokens: number,
): number[][] {
  const batches: number[][] = [];
  let current: number[] = [];
  let tokens = 0;
  inputs.forEach((input, index) => {
    if (typeof input !== 'string' || input === '') {
      throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `inputs[${index}] must be a non-empty string`);
    }
    const cost = estimateTokens(input);
    if (cost > Math.min(EMBEDDING_LIMITS.tokensPerInput, maxTokens)) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `inputs[${index}] is estimated at ${cost} tokens, more than one embedding takes (${Math.min(EMBEDDING_LIMITS.tokensPerInput, maxTokens)})`,
      );
    }
    if (current.length === maxInputs || (current.length > 0 && tokens + cost > maxTokens)) {
      batches.push(current);
      current = [];
      tokens = 0;
    }
    current.push(index);
    tokens += cost;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}

/** One batch as a request, asking for base64 (a quarter of the bytes of JSON floats). */
export function embeddingRequest(
  model: string,
  inputs: string[],
  headers: Record<string, string>,
  options: { dimensions?: number; signal?: AbortSignal } = {},
): HttpRequest<z.output<typeof embeddingAnswerSchema>> {
  return {
    method: 'POST',
    path: '/embeddings',
    headers,
    body: {
      model,
      input: inputs,
      encoding_format: 'base64',
      ...(options.dimensions !== undefined && { dimensions: options.dimensions }),
    },
    idempotencyKey: `patchbay-${randomUUID()}`,
    schema: embeddingAnswerSchema,
    ...(options.signal && { signal: options.signal }),
  };
}

/** A base64 embedding is little-endian float32s; a float array is taken as it is. */
export function decodeEmbedding(embedding: string | number[]): number[] {
  if (Array.isArray(embedding)) return embedding;
  const bytes = Buffer.from(embedding, 'base64');
  if (bytes.length % 4 !== 0) {
    throw new PatchbayError(
      ErrorCode.RESPONSE_INVALID,
      'a base64 embedding is not a whole number of float32s',
    );
  }
  const out = new Array<number>(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}
