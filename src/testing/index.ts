/**
 * `patchbay/testing`: helpers for users' own tests — a clock moved by hand and a scripted upstream.
 */
export {
  type ChaosRateLimit,
  type ChaosRequest,
  type ChaosStats,
  type ChaosStep,
  ChaosUpstream,
  type ChaosUpstreamOptions,
  startChaosUpstream,
} from './chaos-upstream.js';
export { FakeClock, flushMicrotasks } from './fake-clock.js';
