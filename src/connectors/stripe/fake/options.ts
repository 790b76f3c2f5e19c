import type { FakeServerOptions } from '../../fake-kit/index.js';

export interface StripeFakeOptions extends FakeServerOptions {
  /** Requests per second, reads and writes counted apart. Defaults to 25 each (a sandbox). */
  rateLimit?: { read?: number; write?: number };
  /**
   * How long each write takes inside the fake before it answers, in ms (real time): the window in
   * which a second request with the same idempotency key finds it in use. Defaults to 0.
   */
  processingMs?: number;
  /** How long a webhook endpoint may take to answer, in ms. Defaults to 10 s. */
  webhookTimeoutMs?: number;
  /** Waits before each webhook retry, on the fake's clock. Defaults to 5 min, 30 min, 2 h (a sandbox's "three times over a few hours"). */
  webhookRetryDelaysMs?: number[];
  /** The API version answered when a request names none. Defaults to stripe-node 20's, `2026-02-25.clover`. */
  apiVersion?: string;
}

export interface ResolvedStripeFakeOptions {
  rateLimit: { read: number; write: number };
  processingMs: number;
  webhookTimeoutMs: number;
  webhookRetryDelaysMs: number[];
  apiVersion: string;
}

export function resolveOptions(options: StripeFakeOptions): ResolvedStripeFakeOptions {
  const count = (name: string, value: unknown, fallback: number, min = 1) => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
      throw new RangeError(`stripe fake: ${name} must be a whole number ≥ ${min}, got ${String(value)}`);
    }
    return value;
  };
  const delays = options.webhookRetryDelaysMs ?? [5 * 60_000, 30 * 60_000, 2 * 3_600_000];
  if (!Array.isArray(delays))
    throw new RangeError('stripe fake: webhookRetryDelaysMs must be an array of ms');
  const apiVersion = options.apiVersion ?? '2026-02-25.clover';
  if (!/^\d{4}-\d{2}-\d{2}(\.\w+)?$/.test(apiVersion)) {
    throw new RangeError(
      `stripe fake: apiVersion must look like 2026-02-25.clover, got ${JSON.stringify(apiVersion)}`,
    );
  }
  return {
    rateLimit: {
      read: count('rateLimit.read', options.rateLimit?.read, 25),
      write: count('rateLimit.write', options.rateLimit?.write, 25),
    },
    processingMs: count('processingMs', options.processingMs, 0, 0),
    webhookTimeoutMs: count('webhookTimeoutMs', options.webhookTimeoutMs, 10_000),
    webhookRetryDelaysMs: delays.map((d, i) => count(`webhookRetryDelaysMs[${i}]`, d, 0, 0)),
    apiVersion,
  };
}
