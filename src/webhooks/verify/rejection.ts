import type { WebhookFailure, WebhookFailureCode } from './types.js';

/**
 * Thrown inside a scheme and caught at the public boundary, where it becomes a `WebhookFailure` result.
 * Schemes read as straight-line checks this way; nothing outside this module ever sees the throw.
 */
export class Rejection {
  constructor(
    readonly code: WebhookFailureCode,
    readonly reason: string,
  ) {}

  toFailure(): WebhookFailure {
    return {
      ok: false,
      code: this.code,
      reason: this.reason,
      status: this.code === 'PAYLOAD_INVALID' ? 400 : 401,
    };
  }
}

export function missing(reason: string): Rejection {
  return new Rejection('SIGNATURE_MISSING', reason);
}

export function invalid(reason: string): Rejection {
  return new Rejection('SIGNATURE_INVALID', reason);
}

export function outOfRange(reason: string): Rejection {
  return new Rejection('TIMESTAMP_OUT_OF_RANGE', reason);
}

export function badPayload(reason: string): Rejection {
  return new Rejection('PAYLOAD_INVALID', reason);
}

/** Runs `fn`, turning a `Rejection` into its failure result; any other throw is a bug and propagates. */
export function settle<T>(fn: () => T): T | WebhookFailure {
  try {
    return fn();
  } catch (err) {
    if (err instanceof Rejection) return err.toFailure();
    throw err;
  }
}
