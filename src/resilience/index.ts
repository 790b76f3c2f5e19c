/**
 * `patchbay/resilience`: the policies every outbound call goes through, usable on their own.
 */

export type { Clock } from '../core/clock.js';
export { systemClock } from '../core/clock.js';
export { ErrorCode, isPatchbayError, PatchbayError } from '../core/errors.js';
export {
  AdaptiveThrottle,
  type AdaptiveThrottleOptions,
  adaptiveThrottleDefaults,
} from './adaptive-throttle.js';
export {
  type Backoff,
  constantBackoff,
  type DecorrelatedJitterOptions,
  decorrelatedJitterBackoff,
  type ExponentialBackoffOptions,
  exponentialBackoff,
} from './backoff.js';
export type { BreakerSnapshot, BreakerState } from './breaker-state.js';
export { initialSnapshot as initialBreakerSnapshot } from './breaker-state.js';
export {
  type BreakerStateStore,
  compareAndSetLoop,
  MemoryBreakerStateStore,
  type Versioned,
} from './breaker-state-store.js';
export {
  consecutiveFailures,
  type FailureRateOptions,
  type FailureRunOptions,
  failureRate,
  failureRun,
  type TripCounters,
  type TripPolicy,
} from './breaker-trip.js';
export { Bulkhead, type BulkheadOptions } from './bulkhead.js';
export { calendarDay, checkTimeZone } from './calendar-day.js';
export {
  type BreakerTicket,
  CircuitBreaker,
  type CircuitBreakerOptions,
  circuitBreakerDefaults,
  type StateChangeEvent,
} from './circuit-breaker.js';
export type { Classification, Classifier, ClassifierOverrides, ResponseOutcome } from './classification.js';
export {
  classifyError,
  classifyResponse,
  createClassifier,
  defaultClassifier,
  hasItemErrors,
  isRateLimitSignal,
  NOT_SENT_CODES,
  TRANSIENT_NETWORK_CODES,
  TRANSIENT_STATUSES,
  type UpstreamSignal,
  upstreamSignal,
} from './classification.js';
export { ConcurrencyLimiter, type ConcurrencyLimiterOptions } from './concurrency-limiter.js';
export { FixedWindowLimiter, type FixedWindowLimiterOptions } from './fixed-window-limiter.js';
export { type LimiterPolicyOptions, limiterPolicy } from './limiter-policy.js';
export { pipeline } from './pipeline.js';
export type { ExecuteOptions, Policy, PolicyContext } from './policy.js';
export { DAY_MS, type ProviderQuota, parseQuotaHeaders } from './quota-headers.js';
export {
  type GcraRequest,
  type Grant,
  type LeaseRequest,
  MemoryRateLimitStore,
  type RateLimitStore,
  type StoreTime,
  timeOf,
  type WindowRequest,
} from './rate-limit-store.js';
export type {
  AcquireOptions,
  LimiterBaseOptions,
  RateLimiter,
  RateLimitFeedback,
  RateLimitPermit,
} from './rate-limiter.js';
export { type ResilienceMetrics, resilienceMetrics } from './resilience-metrics.js';
export { parseResetTime, parseRetryAfter, retryDelayFromHeaders } from './retry-after.js';
export {
  type AdaptiveRetryBudgetOptions,
  adaptiveRetryBudget,
  type RetryBudget,
  type TokenRetryBudgetOptions,
  tokenRetryBudget,
} from './retry-budget.js';
export {
  type GiveUpEvent,
  type RetryDecision,
  type RetryEvent,
  type RetryExecuteOptions,
  type RetryOptions,
  RetryPolicy,
  retryDefaults,
} from './retry-policy.js';
export {
  defaultSafetyMarginMs,
  RollingWindowLimiter,
  type RollingWindowLimiterOptions,
} from './rolling-window-limiter.js';
export { type TimeoutOptions, TimeoutPolicy, timeoutDefaults } from './timeout-policy.js';
export { TokenBucketLimiter, type TokenBucketLimiterOptions } from './token-bucket-limiter.js';
