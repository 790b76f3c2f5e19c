import { abortError, type Clock, systemClock } from '../core/clock.js';
import { ErrorCode, errorMessage, PatchbayError } from '../core/errors.js';
import { type Backoff, exponentialBackoff } from './backoff.js';
import { type Classifier, defaultClassifier } from './classification.js';
import { Emitter } from './events.js';
import { checkFunction, checkInteger, checkKnownKeys, checkNumber, defined } from './options.js';
import type { ExecuteOptions, Policy, PolicyContext } from './policy.js';
import { toExecuteOptions } from './policy.js';
import { type RetryBudget, tokenRetryBudget } from './retry-budget.js';
import { NEVER_ABORTED, sleep } from './timers.js';

export interface RetryOptions {
  /** Attempts in all, the first one included. Defaults to 3. */
  maxAttempts?: number;
  /** Ceiling of the first retry's delay (full-jitter exponential), in ms. Defaults to 200 ms. */
  baseDelayMs?: number;
  /** Largest computed delay, in ms. Defaults to 30 s. */
  maxDelayMs?: number;
  /** Replaces the computed backoff (then baseDelayMs/maxDelayMs are ignored). */
  backoff?: Backoff;
  /**
   * The whole call — attempts, waits, retries — must finish within this, in ms. A retry whose delay
   * would end past the deadline is not made. Defaults to 2 min.
   */
  deadlineMs?: number;
  /**
   * Longest server-requested wait (`Retry-After`, rate-limit reset) we honour, in ms. A longer one
   * fails the call at once with the upstream's error (it carries `retryAfterMs`) instead of retrying
   * early, which would only be refused again. Defaults to 60 s.
   */
  maxRetryAfterMs?: number;
  /** Limits retries while the upstream is failing. Defaults to `tokenRetryBudget()`; false for none. */
  budget?: RetryBudget | false;
  /** Decides what is transient. Defaults to the shared classification table. */
  classifier?: Classifier;
  clock?: Clock;
  /** Uniform [0, 1), for jitter. Defaults to Math.random. */
  random?: () => number;
}

export const retryDefaults = {
  maxAttempts: 3,
  baseDelayMs: 200,
  maxDelayMs: 30_000,
  deadlineMs: 120_000,
  maxRetryAfterMs: 60_000,
} as const;

const KNOWN = [
  'maxAttempts',
  'baseDelayMs',
  'maxDelayMs',
  'backoff',
  'deadlineMs',
  'maxRetryAfterMs',
  'budget',
  'classifier',
  'clock',
  'random',
] as const;

export interface RetryEvent {
  /** The attempt that failed (1 = the first). */
  attempt: number;
  delayMs: number;
  error: unknown;
}

export interface GiveUpEvent {
  attempts: number;
  reason: 'permanent' | 'attempts' | 'deadline' | 'retry-after' | 'budget' | 'not-retryable';
  error: unknown;
}

export interface RetryExecuteOptions extends ExecuteOptions {
  /**
   * Per-call veto: false keeps a transient failure from being retried (the HTTP client uses it for
   * non-idempotent requests without an idempotency key).
   */
  isRetryable?: (error: unknown) => boolean;
}

export type RetryDecision =
  | { retry: true; delayMs: number }
  | { retry: false; error: unknown; reason: GiveUpEvent['reason'] };

/**
 * Retries transient failures with full-jitter exponential backoff, honouring the upstream's own
 * `Retry-After` or reset time (the error's `retryAfterMs`) over the computed delay, within an overall
 * deadline and a retry budget. The sleep between attempts ends at once when the signal aborts.
 */
export class RetryPolicy implements Policy {
  readonly maxAttempts: number;
  readonly deadlineMs: number;
  readonly maxRetryAfterMs: number;
  private readonly backoff: Backoff;
  private readonly budget: RetryBudget | undefined;
  private readonly classifier: Classifier;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly retryEvents = new Emitter<RetryEvent>();
  private readonly giveUpEvents = new Emitter<GiveUpEvent>();
  /** Fires before each retry's wait. */
  readonly onRetry = this.retryEvents.on;
  /** Fires when a failure is final. */
  readonly onGiveUp = this.giveUpEvents.on;

  constructor(options: RetryOptions = {}) {
    checkKnownKeys('retry', options, KNOWN);
    const o = { ...retryDefaults, ...defined(options) };
    this.maxAttempts = checkInteger('retry.maxAttempts', o.maxAttempts, 1, 100);
    this.deadlineMs = checkNumber('retry.deadlineMs', o.deadlineMs, 1, Number.POSITIVE_INFINITY, true);
    this.maxRetryAfterMs = checkNumber('retry.maxRetryAfterMs', o.maxRetryAfterMs, 0);
    this.backoff =
      options.backoff ?? exponentialBackoff({ baseDelayMs: o.baseDelayMs, maxDelayMs: o.maxDelayMs });
    if (options.backoff) checkFunction('retry.backoff.delay', options.backoff.delay);
    this.clock = options.clock ?? systemClock;
    this.budget =
      options.budget === false ? undefined : (options.budget ?? tokenRetryBudget({ clock: this.clock }));
    this.classifier = options.classifier ?? defaultClassifier;
    this.random = options.random ?? Math.random;
  }

  execute<T>(
    fn: (context: PolicyContext) => Promise<T> | T,
    options?: RetryExecuteOptions | AbortSignal,
  ): Promise<T> {
    const opts: RetryExecuteOptions = toExecuteOptions(options);
    const signal = opts.signal ?? NEVER_ABORTED;
    if (signal.aborted) return Promise.reject(abortError(signal));
    const deadline = Math.min(opts.deadline ?? Number.POSITIVE_INFINITY, this.clock.now() + this.deadlineMs);
    this.budget?.recordRequest();
    // Most calls succeed at once: the first attempt runs without the retry loop's async frame, which
    // spares every call a few hundred nanoseconds on a hot client.
    return attempt(fn, { signal, attempt: 1, deadline }).then(
      (value) => {
        this.budget?.recordSuccess();
        return value;
      },
      (error: unknown) => this.retry(fn, error, signal, deadline, opts.isRetryable),
    );
  }

  /** The retries after a failed first attempt. */
  private async retry<T>(
    fn: (context: PolicyContext) => Promise<T> | T,
    firstError: unknown,
    signal: AbortSignal,
    deadline: number,
    isRetryable: RetryExecuteOptions['isRetryable'],
  ): Promise<T> {
    let error = firstError;
    let previousDelay = 0;
    let everyNotSent = notSent(firstError);
    for (let failed = 1; ; failed++) {
      if (signal.aborted) throw abortError(signal);
      const decision = this.decide(error, {
        attempt: failed,
        deadline,
        previousDelay,
        isRetryable,
        everyNotSent,
      });
      if (!decision.retry) {
        if (decision.reason === 'permanent') this.budget?.recordSuccess();
        this.giveUpEvents.emit({ attempts: failed, reason: decision.reason, error: decision.error });
        throw decision.error;
      }
      this.retryEvents.emit({ attempt: failed, delayMs: decision.delayMs, error });
      previousDelay = decision.delayMs;
      await sleep(this.clock, decision.delayMs, signal);
      if (signal.aborted) throw abortError(signal);
      try {
        const value = await fn({ signal, attempt: failed + 1, deadline });
        this.budget?.recordSuccess();
        return value;
      } catch (next) {
        error = next;
        everyNotSent &&= notSent(next);
      }
    }
  }

  /**
   * Whether the failure of attempt `attempt` is retried, and after how long. Exposed so callers that
   * run their own loop (tests, the delivery worker scheduling a later attempt) decide the same way.
   */
  decide(
    error: unknown,
    state: {
      attempt: number;
      deadline: number;
      previousDelay?: number;
      isRetryable?: ((error: unknown) => boolean) | undefined;
      /** Whether every attempt so far provably never left (`notSent`): the final error then says so. */
      everyNotSent?: boolean;
    },
  ): RetryDecision {
    const { attempt, deadline } = state;
    const exhausted = (why: string) => exhaustedError(error, attempt, why, state.everyNotSent === true);
    const classification = this.classifier.error(error);
    if (classification !== 'transient') {
      // A last attempt refused before it left (an open circuit) must not speak for earlier ones that may have.
      if (attempt > 1 && notSent(error) && state.everyNotSent !== true) {
        return {
          retry: false,
          error: exhausted('the last attempt was refused before it left'),
          reason: 'permanent',
        };
      }
      return { retry: false, error, reason: 'permanent' };
    }
    if (state.isRetryable && !state.isRetryable(error))
      return { retry: false, error, reason: 'not-retryable' };
    if (attempt >= this.maxAttempts) {
      return { retry: false, error: exhausted('no attempts left'), reason: 'attempts' };
    }
    const asked = error instanceof PatchbayError ? error.retryAfterMs : undefined;
    if (asked !== undefined && asked > this.maxRetryAfterMs) {
      return {
        retry: false,
        error: exhausted(`the upstream asked to wait ${asked} ms, more than maxRetryAfterMs`),
        reason: 'retry-after',
      };
    }
    const delayMs = Math.max(
      0,
      Math.round(asked ?? this.backoff.delay(attempt, state.previousDelay ?? 0, this.random)),
    );
    if (this.clock.now() + delayMs >= deadline) {
      return {
        retry: false,
        error: exhausted(`the next retry (in ${delayMs} ms) would end past the deadline`),
        reason: 'deadline',
      };
    }
    if (this.budget && !this.budget.tryRetry()) {
      return {
        retry: false,
        error: exhausted('the retry budget is spent'),
        reason: 'budget',
      };
    }
    return { retry: true, delayMs };
  }
}

/**
 * The error a call ends with when its transient failures were not overcome. After a single attempt
 * that is the upstream's own error (nothing was retried); after several it is `RETRIES_EXHAUSTED`
 * carrying the last failure as `cause` and its status, retry hint, headers and body, and `notSent` when
 * no attempt left (every one refused at connect, say): a once-only sender may then free its key.
 */
function exhaustedError(error: unknown, attempts: number, why: string, everyNotSent: boolean): unknown {
  if (attempts <= 1) return error;
  const last = error instanceof PatchbayError ? error : undefined;
  // The last failure's classification (transient) is not copied: an enclosing policy must not retry the
  // whole (RETRIES_EXHAUSTED is permanent).
  return new PatchbayError(
    ErrorCode.RETRIES_EXHAUSTED,
    `gave up after ${attempts} attempts (${why}): ${errorMessage(error)}`,
    {
      cause: error,
      ...(last?.status !== undefined && { status: last.status }),
      ...(last?.retryAfterMs !== undefined && { retryAfterMs: last.retryAfterMs }),
      ...(last?.headers !== undefined && { headers: last.headers }),
      ...(last?.body !== undefined && { body: last.body }),
      ...(everyNotSent && { notSent: true }),
      data: { ...last?.data, attempts, lastCode: last?.code ?? 'UNKNOWN' },
    },
  );
}

/** Runs one attempt as a promise, a synchronous throw included. */
function attempt<T>(fn: (context: PolicyContext) => Promise<T> | T, context: PolicyContext): Promise<T> {
  try {
    return Promise.resolve(fn(context));
  } catch (error) {
    return Promise.reject(error);
  }
}

function notSent(error: unknown): boolean {
  return error instanceof PatchbayError && error.notSent === true;
}
