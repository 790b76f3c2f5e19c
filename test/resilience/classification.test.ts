import { describe, expect, it } from 'vitest';
import { ErrorCode, PatchbayError } from '../../src/core/errors.js';
import {
  attemptVerdict,
  classifyDeliveryStatus,
  classifyError,
  classifyResponse,
  createClassifier,
  deliveryErrorCode,
  errorCodeForStatus,
  isOverloadSignal,
  upstreamSignal,
} from '../../src/resilience/classification.js';

const response = (status: number, headers: Record<string, string> = {}, body?: unknown) => ({
  status,
  headers,
  body,
});

describe('classification', () => {
  it.each([429, 502, 503, 504, 500, 408])('treats %i as transient', (status) => {
    expect(classifyResponse(response(status))).toBe('transient');
  });

  it.each([400, 403, 404, 405, 409, 410, 422, 501])('treats %i as permanent', (status) => {
    expect(classifyResponse(response(status))).toBe('permanent');
  });

  it('names a failed answer RATE_LIMITED (429), HTTP_SERVER_ERROR (5xx) or HTTP_CLIENT_ERROR', () => {
    expect([429, 500, 503, 599, 400, 404, 410, 499].map(errorCodeForStatus)).toEqual([
      ErrorCode.RATE_LIMITED,
      ErrorCode.HTTP_SERVER_ERROR,
      ErrorCode.HTTP_SERVER_ERROR,
      ErrorCode.HTTP_SERVER_ERROR,
      ErrorCode.HTTP_CLIENT_ERROR,
      ErrorCode.HTTP_CLIENT_ERROR,
      ErrorCode.HTTP_CLIENT_ERROR,
      ErrorCode.HTTP_CLIENT_ERROR,
    ]);
  });

  it('treats 401 as an auth failure and 2xx/304 as success', () => {
    expect(classifyResponse(response(401))).toBe('auth');
    expect(classifyResponse(response(200))).toBe('success');
    expect(classifyResponse(response(204))).toBe('success');
    expect(classifyResponse(response(304))).toBe('success');
  });

  it('treats 207 and 2xx batch answers with per-item errors as partial', () => {
    expect(classifyResponse(response(207))).toBe('partial');
    expect(classifyResponse(response(200, {}, { results: [{ id: 1 }], errors: [{ message: 'x' }] }))).toBe(
      'partial',
    );
    expect(
      classifyResponse(
        response(
          200,
          {},
          {
            responses: [
              { id: '1', status: 200 },
              { id: '2', status: 429 },
            ],
          },
        ),
      ),
    ).toBe('partial');
    expect(classifyResponse(response(200, {}, { results: [], errors: [] }))).toBe('success');
  });

  it('tells a GitHub rate-limit 403 from a permission 403', () => {
    expect(classifyResponse(response(403, { 'x-ratelimit-remaining': '0' }))).toBe('transient');
    expect(classifyResponse(response(403, { 'retry-after': '60' }))).toBe('transient');
    expect(classifyResponse(response(403, { 'x-ratelimit-remaining': '4000' }))).toBe('permanent');
  });

  it('classifies errors by code, network cause and status', () => {
    expect(classifyError(new PatchbayError(ErrorCode.TIMEOUT, 't'))).toBe('transient');
    expect(classifyError(new PatchbayError(ErrorCode.NETWORK_ERROR, 'n'))).toBe('transient');
    expect(
      classifyError(new PatchbayError(ErrorCode.NETWORK_ERROR, 'n', { classification: 'permanent' })),
    ).toBe('permanent');
    // The decisions are typed fields: a misspelt one, or a value outside the table, does not compile.
    // @ts-expect-error `clasification` is not a field of PatchbayErrorDetails
    new PatchbayError(ErrorCode.NETWORK_ERROR, 'n', { clasification: 'permanent' });
    // @ts-expect-error 'retry' is not a classification
    new PatchbayError(ErrorCode.NETWORK_ERROR, 'n', { classification: 'retry' });
    expect(classifyError(new PatchbayError(ErrorCode.HTTP_SERVER_ERROR, 's', { status: 503 }))).toBe(
      'transient',
    );
    expect(classifyError(new PatchbayError(ErrorCode.HTTP_CLIENT_ERROR, 'c', { status: 404 }))).toBe(
      'permanent',
    );
    expect(classifyError(new PatchbayError(ErrorCode.RETRIES_EXHAUSTED, 'r', { status: 503 }))).toBe(
      'permanent',
    );
    expect(classifyError(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe('transient');
    expect(
      classifyError(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'EAI_AGAIN' }) })),
    ).toBe('transient');
    expect(classifyError(Object.assign(new Error('no host'), { code: 'ENOTFOUND' }))).toBe('permanent');
    expect(classifyError(new TypeError('bug'))).toBe('permanent');
  });

  it('lets a connector override statuses and decisions', () => {
    const classifier = createClassifier({
      statuses: { 409: 'transient' },
      response: (o) => (o.status === 400 && o.headers['x-busy'] === '1' ? 'transient' : undefined),
    });
    expect(classifier.response(response(409))).toBe('transient');
    expect(classifier.response(response(400, { 'x-busy': '1' }))).toBe('transient');
    expect(classifier.response(response(400))).toBe('permanent');
    expect(classifier.error(new PatchbayError(ErrorCode.HTTP_CLIENT_ERROR, 'c', { status: 409 }))).toBe(
      'transient',
    );
  });

  it('refuses an override that is not a classification, naming it', () => {
    expect(() => createClassifier({ statuses: { 418: 'maybe' as never } })).toThrow(
      /classifier\.statuses\[418\]/,
    );
  });
});

describe('delivery classification', () => {
  it.each([
    [200, 'delivered'],
    [204, 'delivered'],
    [301, 'redirected'],
    [308, 'redirected'],
    [429, 'too-fast'],
    [410, 'gone'],
    [400, 'refused'],
    [404, 'refused'],
    [500, 'broken'],
    [503, 'broken'],
  ] as const)('reads %i as %s', (status, answer) => {
    expect(classifyDeliveryStatus(status)).toBe(answer);
  });

  it('gives each failed answer its error code', () => {
    expect(deliveryErrorCode('redirected')).toBe(ErrorCode.HTTP_REDIRECT);
    expect(deliveryErrorCode('broken')).toBe(ErrorCode.HTTP_SERVER_ERROR);
    expect(deliveryErrorCode('gone')).toBe(ErrorCode.HTTP_CLIENT_ERROR);
    expect(deliveryErrorCode('too-fast')).toBe(ErrorCode.HTTP_CLIENT_ERROR);
  });

  it('reads a 429 or a timeout as the receiver overloaded, nothing else', () => {
    expect(isOverloadSignal({ statusCode: 429, errorCode: ErrorCode.HTTP_CLIENT_ERROR })).toBe(true);
    expect(isOverloadSignal({ statusCode: null, errorCode: ErrorCode.TIMEOUT })).toBe(true);
    expect(isOverloadSignal({ statusCode: 503, errorCode: ErrorCode.HTTP_SERVER_ERROR })).toBe(false);
    expect(isOverloadSignal({ statusCode: null, errorCode: ErrorCode.NETWORK_ERROR })).toBe(false);
  });

  it('turns an attempt into what the breaker and the throttle read: failing, answering, too fast or ours', () => {
    const signal = (statusCode: number | null, errorCode: string | null) => {
      const verdict = attemptVerdict({ statusCode, errorCode });
      return verdict === undefined ? 'success' : upstreamSignal(verdict);
    };
    expect(signal(200, null)).toBe('success');
    expect(signal(503, ErrorCode.HTTP_SERVER_ERROR)).toBe('failing');
    expect(signal(501, ErrorCode.HTTP_SERVER_ERROR)).toBe('failing');
    expect(signal(null, ErrorCode.TIMEOUT)).toBe('failing');
    expect(signal(null, ErrorCode.NETWORK_ERROR)).toBe('failing');
    expect(signal(404, ErrorCode.HTTP_CLIENT_ERROR)).toBe('answering');
    expect(signal(302, ErrorCode.HTTP_REDIRECT)).toBe('answering');
    expect(signal(429, ErrorCode.HTTP_CLIENT_ERROR)).toBe('too-fast');
    expect(signal(null, ErrorCode.SSRF_BLOCKED)).toBe('local');
    expect(signal(null, ErrorCode.ABORTED)).toBe('local');
  });
});
