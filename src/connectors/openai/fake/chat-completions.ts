import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { type FakeKit, INVALID_JSON } from '../../fake-kit/index.js';
import type { Admission } from './admission.js';
import { countTokens, type FakeModel, tokenPieces } from './models.js';
import { ERRORS, invalidRequest, sendOpenAIError } from './openai-errors.js';

/** A scripted answer: the first whose `match` is in the last user message wins. */
export interface ScriptedReply {
  match: string;
  content: string;
  /** Streams: send an `{"error":…}` event after the first content chunk instead of finishing. */
  streamError?: boolean;
}

export interface ChatState {
  admission: Admission;
  models: ReadonlyMap<string, FakeModel>;
  replies: ScriptedReply[];
  /** Pause between stream chunks, in ms (real time: what a slow completion looks like on the wire). */
  chunkDelayMs: number;
}

type Message = { role: string; content: unknown };
const ROLES = new Set(['system', 'developer', 'user', 'assistant', 'tool']);

/**
 * `POST /v1/chat/completions`: deterministic answers (scripted by the control plane, else derived
 * from the last user message), `max_tokens` / `max_completion_tokens` cutting them short with
 * `finish_reason: "length"`, `n` choices, usage counted by the fake's tokenizer, and `stream: true`
 * as server-sent events ending with `data: [DONE]` (usage in a last chunk with `include_usage`).
 * https://platform.openai.com/docs/api-reference/chat/create
 */
export function chatCompletionRoutes(app: FastifyInstance, state: ChatState, k: FakeKit): void {
  app.post('/v1/chat/completions', async (request, reply) => {
    const key = state.admission.key(request, reply);
    if (!key) return reply;
    const body = request.body as Record<string, unknown> | typeof INVALID_JSON | undefined;
    if (body === INVALID_JSON || typeof body !== 'object' || body === null || Array.isArray(body)) {
      return sendOpenAIError(reply, 400, ERRORS.badJson);
    }
    if (typeof body.model !== 'string') return sendOpenAIError(reply, 400, ERRORS.missing('model'));
    const model = state.models.get(body.model);
    if (model?.kind !== 'chat') return sendOpenAIError(reply, 404, ERRORS.model(body.model));
    if (body.messages === undefined) return sendOpenAIError(reply, 400, ERRORS.missing('messages'));
    const messages = body.messages;
    if (!Array.isArray(messages) || messages.length === 0) {
      return sendOpenAIError(
        reply,
        400,
        invalidRequest(
          "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
          'messages',
          'empty_array',
        ),
      );
    }
    for (const [i, m] of messages.entries()) {
      if (typeof m !== 'object' || m === null || !ROLES.has((m as Message).role)) {
        return sendOpenAIError(
          reply,
          400,
          invalidRequest(`Invalid value for 'messages[${i}].role'.`, `messages[${i}].role`, 'invalid_value'),
        );
      }
    }
    const maxTokens = body.max_completion_tokens ?? body.max_tokens;
    if (maxTokens !== undefined && !(Number.isInteger(maxTokens) && (maxTokens as number) >= 1)) {
      return sendOpenAIError(
        reply,
        400,
        ERRORS.invalidType(
          body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens',
          'an integer ≥ 1',
        ),
      );
    }
    const n = body.n ?? 1;
    if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 128) {
      return sendOpenAIError(reply, 400, ERRORS.invalidType('n', 'an integer between 1 and 128'));
    }
    const prompt = promptTokens(messages as Message[]);
    if (prompt + ((maxTokens as number | undefined) ?? 0) > model.contextWindow) {
      return sendOpenAIError(
        reply,
        400,
        invalidRequest(
          `This model's maximum context length is ${model.contextWindow} tokens. However, your messages resulted in ${prompt} tokens. Please reduce the length of the messages.`,
          'messages',
          'context_length_exceeded',
        ),
      );
    }
    const scripted = replyFor(messages as Message[], state.replies);
    const pieces = tokenPieces(scripted.content);
    const cut = maxTokens === undefined ? pieces : pieces.slice(0, maxTokens as number);
    const finish = cut.length < pieces.length ? 'length' : 'stop';
    // OpenAI counts a request's tokens before it runs: the prompt plus the completion it may produce.
    if (
      !state.admission.admit(
        key,
        model,
        prompt + ((maxTokens as number | undefined) ?? pieces.length) * (n as number),
        reply,
      )
    )
      return reply;
    k.count(`chat:${model.id}`);

    const id = `chatcmpl-${randomBytes(12).toString('base64url')}`;
    const created = Math.floor(k.clock.now() / 1000);
    const content = cut.join('');
    const usage = {
      prompt_tokens: prompt,
      completion_tokens: cut.length * (n as number),
      total_tokens: prompt + cut.length * (n as number),
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    };
    reply.header('openai-processing-ms', '1');
    if (body.stream === true) {
      const includeUsage =
        (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
      const chunk = (choices: unknown[], extra: object = {}) =>
        `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: model.snapshot, system_fingerprint: 'fp_fake', choices, ...(includeUsage && { usage: null }), ...extra })}\n\n`;
      async function* events() {
        const indexes = Array.from({ length: n as number }, (_, i) => i);
        yield chunk(
          indexes.map((index) => ({
            index,
            delta: { role: 'assistant', content: '', refusal: null },
            logprobs: null,
            finish_reason: null,
          })),
        );
        for (const [i, piece] of cut.entries()) {
          if (state.chunkDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, state.chunkDelayMs));
          yield chunk(
            indexes.map((index) => ({
              index,
              delta: { content: piece },
              logprobs: null,
              finish_reason: null,
            })),
          );
          if (i === 0 && scripted.streamError) {
            yield `data: ${JSON.stringify({ error: ERRORS.server })}\n\n`;
            return;
          }
        }
        yield chunk(indexes.map((index) => ({ index, delta: {}, logprobs: null, finish_reason: finish })));
        if (includeUsage) yield chunk([], { usage });
        yield 'data: [DONE]\n\n';
      }
      return reply
        .type('text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(Readable.from(events()));
    }
    return {
      id,
      object: 'chat.completion',
      created,
      model: model.snapshot,
      choices: Array.from({ length: n as number }, (_, index) => ({
        index,
        message: { role: 'assistant', content, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: finish,
      })),
      usage,
      service_tier: 'default',
      system_fingerprint: 'fp_fake',
    };
  });
}

/** Tokens of the messages with OpenAI's per-message overhead (3 each, 3 to prime the reply). */
export function promptTokens(messages: readonly Message[]): number {
  let tokens = 3;
  for (const message of messages) tokens += 3 + countTokens(textOf(message.content));
  return tokens;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part) =>
        typeof part === 'object' && part !== null && typeof part.text === 'string' ? part.text : '',
      )
      .join(' ');
  }
  return '';
}

function replyFor(messages: readonly Message[], replies: readonly ScriptedReply[]): ScriptedReply {
  const last = [...messages].reverse().find((m) => m.role === 'user');
  const text = textOf(last?.content);
  const scripted = replies.find((r) => text.includes(r.match));
  if (scripted) return scripted;
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 8);
  const quoted = text.length > 80 ? `${text.slice(0, 77)}...` : text;
  return { match: '', content: `This is the fake's answer ${digest} to: ${quoted}` };
}
