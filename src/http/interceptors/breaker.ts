import type { CircuitBreaker } from '../../resilience/circuit-breaker.js';
import type { Handler, HttpCall, Interceptor, RawResponse } from '../http-types.js';

/**
 * Each attempt asks the upstream's breaker first (an open circuit fails at once with `CIRCUIT_OPEN`,
 * which the retry loop does not retry) and reports how it went: 5xx, timeouts and connection failures
 * count against the upstream; 4xx and 429 do not (see `CircuitBreaker.outcomeOf`).
 */
export function breakerInterceptor(breaker: CircuitBreaker): Interceptor {
  return (next) => (call) => {
    // A breaker without a shared store decides in this process: admit and report without awaiting,
    // which spares every attempt three promises and as many turns of the microtask queue.
    let ticket: ReturnType<CircuitBreaker['acquireNow']>;
    try {
      ticket = breaker.acquireNow();
    } catch (error) {
      return Promise.reject(error);
    }
    if (ticket === undefined) return viaStore(breaker, next, call);
    const admitted = ticket;
    let pending: Promise<RawResponse>;
    try {
      pending = next(call);
    } catch (error) {
      breaker.recordNow(admitted, true, error);
      return Promise.reject(error);
    }
    return pending.then(
      (response) => {
        breaker.recordNow(admitted, false);
        return response;
      },
      (error: unknown) => {
        breaker.recordNow(admitted, true, error);
        throw error;
      },
    );
  };
}

/** The shared store decides admission and takes the report. */
async function viaStore(breaker: CircuitBreaker, next: Handler, call: HttpCall): Promise<RawResponse> {
  const ticket = await breaker.acquire();
  let response: RawResponse;
  try {
    response = await next(call);
  } catch (error) {
    await ticket.done(error);
    throw error;
  }
  await ticket.done();
  return response;
}
