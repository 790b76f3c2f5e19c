import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { type FakeKit, INVALID_JSON } from '../../fake-kit/index.js';
import type { Admission } from './admission.js';
import { countTokens, type FakeModel } from './models.js';
import { ERRORS, invalidRequest, sendOpenAIError } from './openai-errors.js';

const MAX_INPUTS = 2048;
const MAX_REQUEST_TOKENS = 300_000;

/**
 * `POST /v1/embeddings`: one unit vector per input, the same for the same (model, text) every time,
 * `dimensions` shortening the v3 models' vectors, and `encoding_format` honoured — without it the
 * `openai` SDK asks for `base64` and decodes little-endian float32, so a fake that answered float
 * arrays to that request would break it. Limits: 2,048 inputs, the model's context per input,
 * 300,000 tokens per request. https://platform.openai.com/docs/api-reference/embeddings/create
 */
export function embeddingRoutes(
  app: FastifyInstance,
  state: { admission: Admission; models: ReadonlyMap<string, FakeModel> },
  k: FakeKit,
): void {
  app.post('/v1/embeddings', async (request, reply) => {
    const key = state.admission.key(request, reply);
    if (!key) return reply;
    const body = request.body as Record<string, unknown> | typeof INVALID_JSON | undefined;
    if (body === INVALID_JSON || typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendOpenAIError(reply, 400, ERRORS.badJson);
    }
    if (typeof body.model !== 'string') return sendOpenAIError(reply, 400, ERRORS.missing('model'));
    const model = state.models.get(body.model);
    if (model?.kind !== 'embedding') return sendOpenAIError(reply, 404, ERRORS.model(body.model));
    if (body.input === undefined) return sendOpenAIError(reply, 400, ERRORS.missing('input'));
    const inputs = inputsOf(body.input);
    if (!inputs) {
      return sendOpenAIError(
        reply,
        400,
        invalidRequest(
          "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
          'input',
        ),
      );
    }
    if (inputs.length > MAX_INPUTS) {
      return sendOpenAIError(
        reply,
        400,
        invalidRequest(`'$.input' is invalid: at most ${MAX_INPUTS} inputs per request.`, 'input'),
      );
    }
    const format = body.encoding_format ?? 'float';
    if (format !== 'float' && format !== 'base64') {
      return sendOpenAIError(
        reply,
        400,
        invalidRequest(
          `Invalid value for 'encoding_format': ${JSON.stringify(format)}. Supported values are: 'float' and 'base64'.`,
          'encoding_format',
          'invalid_value',
        ),
      );
    }
    let dimensions = model.dimensions!;
    if (body.dimensions !== undefined) {
      if (!model.shortenable) {
        return sendOpenAIError(
          reply,
          400,
          invalidRequest('This model does not support specifying dimensions.', 'dimensions'),
        );
      }
      if (
        !Number.isInteger(body.dimensions) ||
        (body.dimensions as number) < 1 ||
        (body.dimensions as number) > dimensions
      ) {
        return sendOpenAIError(
          reply,
          400,
          ERRORS.invalidType('dimensions', `an integer between 1 and ${dimensions}`),
        );
      }
      dimensions = body.dimensions as number;
    }
    const counts = inputs.map((input) => (typeof input === 'string' ? countTokens(input) : input.length));
    const longest = counts.findIndex((c) => c > model.contextWindow);
    if (longest >= 0) {
      return sendOpenAIError(
        reply,
        400,
        invalidRequest(
          `This model's maximum context length is ${model.contextWindow} tokens, however you requested ${counts[longest]} tokens (${counts[longest]} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`,
          null,
          'context_length_exceeded',
        ),
      );
    }
    const total = counts.reduce((a, b) => a + b, 0);
    if (total > MAX_REQUEST_TOKENS) {
      return sendOpenAIError(
        reply,
        400,
        invalidRequest(
          `Requested ${total} tokens, max ${MAX_REQUEST_TOKENS} tokens per request`,
          'input',
          'max_tokens_per_request',
        ),
      );
    }
    if (!state.admission.admit(key, model, total, reply)) return reply;
    k.count(`embeddings:${model.id}`);
    k.count('embeddings:inputs', inputs.length);
    return {
      object: 'list',
      data: inputs.map((input, index) => {
        const vector = embed(model.id, typeof input === 'string' ? input : input.join(','), dimensions);
        return {
          object: 'embedding',
          index,
          embedding: format === 'base64' ? float32Base64(vector) : vector,
        };
      }),
      model: model.snapshot,
      usage: { prompt_tokens: total, total_tokens: total },
    };
  });
}

/** A string, an array of strings, or token arrays; `undefined` for anything else or an empty input. */
function inputsOf(input: unknown): (string | number[])[] | undefined {
  const isTokens = (v: unknown): v is number[] =>
    Array.isArray(v) && v.length > 0 && v.every((t) => Number.isInteger(t) && t >= 0);
  if (typeof input === 'string') return input === '' ? undefined : [input];
  if (isTokens(input)) return [input];
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((v) => typeof v === 'string' && v !== '') || input.every(isTokens))
    return input as (string | number[])[];
  return undefined;
}

/** A deterministic unit vector from the SHA-256 of (model, text), stretched by a xorshift generator. */
export function embed(model: string, text: string, dimensions: number): number[] {
  const seed = createHash('sha256').update(`${model}\u0000${text}`).digest();
  let state = seed.readUInt32LE(0) || 1;
  const values = new Array<number>(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    const value = ((state >>> 0) / 0xffffffff) * 2 - 1;
    values[i] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm);
  // Rounded through float32, so the float and base64 answers carry the same numbers.
  return values.map((v) => Math.fround(v * scale));
}

/** Little-endian float32, base64: what `encoding_format: "base64"` answers. */
export function float32Base64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => {
    bytes.writeFloatLE(v, i * 4);
  });
  return bytes.toString('base64');
}
