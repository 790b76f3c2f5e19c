import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/core/errors.js';
import { createHttpClient } from '../../src/http/index.js';

const base = { baseUrl: 'https://api.example.com' };

function failure(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected a failure');
}

describe('hostile and invalid options fail at construction with a clear message', () => {
  it.each([
    [{ baseUrl: 'http://api.example.com' }, ErrorCode.INSECURE_URL, /https.*allowInsecureHttp/],
    [{ baseUrl: 'not a url' }, ErrorCode.INVALID_ARGUMENT, /baseUrl must be an absolute URL/],
    [{ baseUrl: 'ftp://x.example.com' }, ErrorCode.INVALID_ARGUMENT, /http\(s\) URL/],
    [{ baseUrl: 'https://user:pw@api.example.com' }, ErrorCode.INVALID_ARGUMENT, /credentials/],
    [
      { ...base, timeoutMs: -1 },
      ErrorCode.INVALID_ARGUMENT,
      /timeoutMs must be a finite number >= 1 \(got -1\)/,
    ],
    [{ ...base, timeoutMs: Number.NaN }, ErrorCode.INVALID_ARGUMENT, /timeoutMs/],
    [{ ...base, retyr: {} }, ErrorCode.INVALID_ARGUMENT, /retyr is not an option/],
    [{ ...base, retry: { maxAttempts: 0 } }, ErrorCode.INVALID_ARGUMENT, /retry.maxAttempts/],
    [{ ...base, breaker: { halfOpenProbes: 0 } }, ErrorCode.INVALID_ARGUMENT, /breaker.halfOpenProbes/],
    [{ ...base, rateLimit: { limit: 0, windowMs: 1000 } }, ErrorCode.INVALID_ARGUMENT, /rateLimit.limit/],
    [{ ...base, rateLimit: { kind: 'leaky', limit: 1 } }, ErrorCode.INVALID_ARGUMENT, /rateLimit.kind/],
    [
      { ...base, rateLimit: { limit: 5, windowMs: 1000, windowMS: 1 } },
      ErrorCode.INVALID_ARGUMENT,
      /windowMS is not an option/,
    ],
    [{ ...base, auth: {}, connection: 'crm' }, ErrorCode.INVALID_ARGUMENT, /either auth or connection/],
    [{ ...base, auth: { token: 'x' } }, ErrorCode.INVALID_ARGUMENT, /AuthProvider/],
    [{ ...base, connection: 'crm' }, ErrorCode.INVALID_ARGUMENT, /connections/],
    [{ ...base, headers: { 'x-a': 'v\r\nx-injected: 1' } }, ErrorCode.INVALID_ARGUMENT, /CR, LF/],
    [
      { ...base, classify: { statuses: { 409: 'maybe' } } },
      ErrorCode.INVALID_ARGUMENT,
      /classifier.statuses\[409\]/,
    ],
  ])('%j → %s', (options, code, message) => {
    const error = failure(() => createHttpClient(options as never));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });
});

describe('hostile requests are refused before anything is sent', () => {
  const client = createHttpClient({ ...base, retry: false });

  it.each([
    [{ path: 'https://evil.example.net/steal' }, /not the client's https:\/\/api.example.com/],
    [{ path: '/x', method: 'GE T' }, /request.method/],
    [{ path: '/x', headers: { 'x-a': 'a\nb' } }, /CR, LF/],
    [{ path: '/x', idempotencyKey: 'a b\n' }, /idempotencyKey/],
    [{ path: '/x', body: 42 }, /request.body/],
    [{ path: 42 }, /request.path must be a string/],
  ])('%j', async (request, message) => {
    await expect(client.request(request as never)).rejects.toMatchObject({
      code: ErrorCode.INVALID_ARGUMENT,
      message: expect.stringMatching(message),
    });
  });

  it('a protocol-relative path stays on the base URL host', async () => {
    const { resolvePath } = await import('../../src/http/build-request.js');
    expect(resolvePath(new URL('https://api.example.com/v1'), '//evil.example.net/x').href).toBe(
      'https://api.example.com/v1/evil.example.net/x',
    );
  });

  it.each([
    ['/contacts/512', 'https://api.example.com/v1/contacts/512?k=1'],
    ['a b/%2F/../c', 'https://api.example.com/v1/a%20b/c?k=1'],
    ['\\\\evil.example.net/x', 'https://api.example.com/v1///evil.example.net/x?k=1'],
    ['/x?b=2&a=1', 'https://api.example.com/v1/x?k=1&b=2&a=1'],
    // A whole-URL parse would trim these; the caller's path is kept as given.
    ['/trailing ', 'https://api.example.com/v1/trailing%20?k=1'],
    ['/ctl\x01', 'https://api.example.com/v1/ctl%01?k=1'],
  ])('resolves %j under the base path', async (path, href) => {
    const { resolvePath } = await import('../../src/http/build-request.js');
    expect(resolvePath(new URL('https://api.example.com/v1?k=1'), path).href).toBe(href);
  });
});
