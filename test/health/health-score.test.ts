import { describe, expect, it } from 'vitest';
import { connectionHealth, sourceHealth, stateOf } from '../../src/health/health-score.js';

describe('sourceHealth', () => {
  const quiet = { requests: 0, refused: 0, failures: {}, p95Ms: undefined };

  it('is healthy receiving nothing: a quiet sender is not a failing one', () => {
    expect(sourceHealth(quiet)).toEqual({ score: 100, reasons: [] });
  });

  it('takes the refused share × 60, naming the codes, once there are 5 requests', () => {
    expect(
      sourceHealth({
        ...quiet,
        requests: 10,
        refused: 5,
        failures: { SIGNATURE_INVALID: 4, PAYLOAD_TOO_LARGE: 1 },
      }),
    ).toEqual({
      score: 70,
      reasons: ['-30: 5 of the last 10 requests refused (SIGNATURE_INVALID 4, PAYLOAD_TOO_LARGE 1)'],
    });
    // Four refusals of four requests say too little.
    expect(
      sourceHealth({ ...quiet, requests: 4, refused: 4, failures: { SIGNATURE_INVALID: 4 } }).score,
    ).toBe(100);
  });

  it('takes 20 more for requests the store failed, whatever their share', () => {
    const health = sourceHealth({ ...quiet, requests: 100, refused: 1, failures: { STORE_FAILED: 1 } });
    expect(health.score).toBe(80 - 1);
    expect(health.reasons).toEqual([
      '-1: 1 of the last 100 requests refused (STORE_FAILED 1)',
      '-20: 1 requests could not be stored (answered 5xx)',
    ]);
  });

  it('takes 10 for a p95 over 1 s and 20 over 5 s', () => {
    expect(sourceHealth({ ...quiet, requests: 10, p95Ms: 1000 }).score).toBe(100);
    expect(sourceHealth({ ...quiet, requests: 10, p95Ms: 2500 }).reasons).toEqual([
      '-10: p95 latency 2500 ms (over 1 s)',
    ]);
    expect(sourceHealth({ ...quiet, requests: 10, p95Ms: 6000 }).score).toBe(80);
  });

  it('fails when every request is refused', () => {
    const all = sourceHealth({ ...quiet, requests: 20, refused: 20, failures: { SIGNATURE_INVALID: 20 } });
    expect(stateOf(all.score)).toBe('failing');
  });
});

describe('connectionHealth', () => {
  const fine = { status: 'active' as const, statusReason: null, rateLimited: 0 };

  it('is 100 with nothing against it, and with the old inputs only', () => {
    expect(connectionHealth(fine)).toEqual({ score: 100, reasons: [] });
    expect(
      connectionHealth({ ...fine, calls: 50, failed: 0, p95Ms: 80, breaker: 'closed', headroom: 0.8 }),
    ).toEqual({ score: 100, reasons: [] });
  });

  it('takes the auth status first', () => {
    expect(connectionHealth({ ...fine, status: 'needs_reauth', statusReason: 'invalid_grant' })).toEqual({
      score: 40,
      reasons: ['-60: needs re-authorization: invalid_grant'],
    });
    expect(connectionHealth({ ...fine, status: 'error', statusReason: null }).score).toBe(50);
  });

  it('takes the failed share of calls × 40 once there are 5', () => {
    expect(
      connectionHealth({ ...fine, calls: 10, failed: 10, failures: { HTTP_503: 7, TIMEOUT: 3 } }),
    ).toEqual({
      score: 60,
      reasons: ['-40: 10 of the last 10 calls failed (HTTP_503 7, TIMEOUT 3)'],
    });
    expect(connectionHealth({ ...fine, calls: 4, failed: 4 }).score).toBe(100);
  });

  it('takes latency, the breaker, 429s and the quota left', () => {
    expect(connectionHealth({ ...fine, p95Ms: 5001 }).reasons).toEqual([
      '-20: p95 latency 5001 ms (over 5 s)',
    ]);
    expect(connectionHealth({ ...fine, breaker: 'open' }).reasons).toEqual([
      '-30: the circuit breaker is open',
    ]);
    expect(connectionHealth({ ...fine, breaker: 'half-open' }).score).toBe(85);
    expect(connectionHealth({ ...fine, rateLimited: 3 }).reasons).toEqual([
      '-15: 3 calls answered 429 in the last hour',
    ]);
    expect(connectionHealth({ ...fine, rateLimited: 100 }).score).toBe(70);
    expect(connectionHealth({ ...fine, headroom: 0 }).reasons).toEqual([
      '-25: no rate-limit quota left (as the provider last said)',
    ]);
    expect(connectionHealth({ ...fine, headroom: 0.05 }).reasons).toEqual([
      '-10: 5 % of the rate-limit quota left (under 10 %)',
    ]);
    expect(connectionHealth({ ...fine, headroom: 0.1 }).score).toBe(100);
    expect(connectionHealth({ ...fine, headroom: null }).score).toBe(100);
  });

  it('never goes below 0', () => {
    expect(
      connectionHealth({
        ...fine,
        status: 'needs_reauth',
        calls: 10,
        failed: 10,
        p95Ms: 9000,
        breaker: 'open',
        rateLimited: 10,
        headroom: 0,
      }).score,
    ).toBe(0);
  });
});
