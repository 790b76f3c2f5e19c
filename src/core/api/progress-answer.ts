import { PassThrough } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, isPatchbayError } from '../errors.js';
import { errorBody } from './error-body.js';

export type ProgressReport = (done: number, total: number) => void;

/** A stream of progress lines is worth one line per percent at most, and at least one a second. */
const MIN_INTERVAL_MS = 1000;

/**
 * Answers a long operation (a key rotation, a recovery of thousands of deliveries). A client asking
 * `Accept: application/x-ndjson` gets `{"progress":{done,total}}` lines as the work goes, then
 * `{"result":…}`; any other gets the result as JSON when it is done. A failure before the first
 * progress is an ordinary error answer (its 4xx status); after it, the status is sent already, so it
 * comes as an `{"error":{code,message,requestId}}` line, with the same discretion as the error handler:
 * what is not a Patchbay error stays in the log.
 */
export async function answerWithProgress<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  run: (progress: ProgressReport) => Promise<T>,
): Promise<unknown> {
  if (!/application\/x-ndjson/.test(request.headers.accept ?? '')) return run(() => {});
  let stream: PassThrough | undefined;
  let last = { percent: -1, at: 0 };
  const progress: ProgressReport = (done, total) => {
    const percent = total === 0 ? 100 : Math.floor((done / total) * 100);
    const now = Date.now();
    if (percent === last.percent && now - last.at < MIN_INTERVAL_MS && done !== total) return;
    last = { percent, at: now };
    if (!stream) {
      stream = new PassThrough();
      void reply.type('application/x-ndjson').send(stream);
    }
    stream.write(`${JSON.stringify({ progress: { done, total } })}\n`);
  };
  let result: T;
  try {
    result = await run(progress);
  } catch (err) {
    if (!stream) throw err;
    const explained = isPatchbayError(err) && err.code !== ErrorCode.INTERNAL;
    if (!explained) request.log.error({ err }, 'request failed');
    const body = explained
      ? errorBody(request, err.code, err.message)
      : errorBody(
          request,
          ErrorCode.INTERNAL,
          `internal error; the log has details under request id ${request.id}`,
        );
    stream.end(`${JSON.stringify(body)}\n`);
    return reply;
  }
  if (!stream) {
    // Done before any progress (nothing to do): one line all the same, as the client asked.
    return reply.type('application/x-ndjson').send(`${JSON.stringify({ result })}\n`);
  }
  stream.end(`${JSON.stringify({ result })}\n`);
  return reply;
}
