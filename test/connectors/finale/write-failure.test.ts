import { describe, expect, it } from 'vitest';
import { failure } from '../../../src/connectors/finale/sync/finale-context.js';
import { ErrorCode, PatchbayError } from '../../../src/core/errors.js';
import { errorCodeForStatus } from '../../../src/resilience/classification.js';

const answered = (status: number, headers: Record<string, string> = {}) =>
  new PatchbayError(errorCodeForStatus(status), `POST /order answered ${status}`, { status, headers });

describe('a failed Finale write is retried as the classification says', () => {
  it.each([
    [400, false],
    [401, false],
    [404, false],
    [409, false],
    [422, false],
    [501, false],
    [408, true],
    [425, true],
    [429, true],
    [500, true],
    [503, true],
  ])('an answer %i: retryable %s', (status, retryable) => {
    expect(failure('po-1', answered(status))).toMatchObject({ id: 'po-1', ok: false, retryable });
  });

  it('retries a 403 that says it is a rate limit, and refuses a plain 403', () => {
    expect(failure('po-1', answered(403, { 'retry-after': '5' })).retryable).toBe(true);
    expect(failure('po-1', answered(403)).retryable).toBe(false);
  });

  it('retries a failure without an answer, and refuses our own refusal of the input', () => {
    expect(failure('po-1', new PatchbayError(ErrorCode.NETWORK_ERROR, 'socket hang up')).retryable).toBe(
      true,
    );
    expect(failure('po-1', new Error('boom')).retryable).toBe(true);
    expect(
      failure('po-1', new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'quantity must be a number')),
    ).toMatchObject({ retryable: false, error: expect.stringContaining('quantity') });
  });
});
