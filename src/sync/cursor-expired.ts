import { ErrorCode, PatchbayError } from '../core/errors.js';
import type { Checkpoint } from './page.js';

/**
 * Thrown by a fetch when the provider no longer accepts its cursor (HubSpot's stale `after`, Graph's
 * 410 `SyncStateNotFound`, an expired delta token). The runner restarts from `restartFrom` — the last
 * watermark the model still trusts, e.g. `{ since }` without the page cursor — or, without one, with a
 * full read whose sweep finds the deletes the lost cursor would have reported.
 */
export class CursorExpiredError extends PatchbayError {
  readonly restartFrom: Checkpoint | undefined;

  constructor(message: string, options: { restartFrom?: Checkpoint; cause?: unknown; status?: number } = {}) {
    super(ErrorCode.CURSOR_EXPIRED, message, {
      ...(options.cause !== undefined && { cause: options.cause }),
      ...(options.status !== undefined && { status: options.status }),
    });
    this.restartFrom = options.restartFrom;
  }
}

/** True for a `CursorExpiredError`, also one from another installed copy of Patchbay. */
export function isCursorExpired(err: unknown): err is CursorExpiredError {
  return err instanceof PatchbayError && err.code === ErrorCode.CURSOR_EXPIRED;
}
