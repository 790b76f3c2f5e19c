import { ErrorCode, PatchbayError } from '../../core/errors.js';

/**
 * The `data:` payloads of a server-sent event stream, as OpenAI sends them: events end with a blank
 * line, `:` lines are comments, `data: [DONE]` ends the stream. An event whose JSON carries a top-level
 * `error` ends it with that error (as the SDK raises it); an event that is not JSON is a protocol fault.
 * https://platform.openai.com/docs/api-reference/chat-streaming
 */
export async function* sseJson(body: AsyncIterable<Buffer | string>): AsyncGenerator<unknown> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    for (;;) {
      const end = /\r?\n\r?\n/.exec(buffer);
      if (!end) break;
      const event = buffer.slice(0, end.index);
      buffer = buffer.slice(end.index + end[0].length);
      const data = event
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data === '') continue;
      if (data === '[DONE]') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(data);
      } catch {
        throw new PatchbayError(
          ErrorCode.RESPONSE_INVALID,
          `the stream sent an event that is not JSON: ${data.slice(0, 80)}`,
        );
      }
      const error = (parsed as { error?: { message?: unknown; code?: unknown; type?: unknown } } | null)
        ?.error;
      if (error) {
        throw new PatchbayError(
          ErrorCode.HTTP_SERVER_ERROR,
          `the stream ended with an error: ${typeof error.message === 'string' ? error.message : 'unknown'}`,
          {
            classification: 'permanent',
            fromUpstream: true,
            data: { upstreamCode: String(error.code ?? error.type ?? '') },
          },
        );
      }
      yield parsed;
    }
  }
  throw new PatchbayError(ErrorCode.RESPONSE_INVALID, 'the stream ended without data: [DONE]', {
    classification: 'transient',
  });
}
