import type { CircuitBreaker } from '../../resilience/circuit-breaker.js';
import type { Interceptor } from '../http-types.js';

/**
 * Each attempt asks the upstream's breaker first (an open circuit fails at once with `CIRCUIT_OPEN`,
 * which the retry loop does not retry) and reports how it went: 5xx, timeouts and connection failures
 * count against the upstream; 4xx and 429 do not (see `CircuitBreaker.outcomeOf`).
 */
export function breakerInterceptor(breaker: CircuitBreaker): Interceptor {
  return (next) => async (call) => {
    const ticket = await breaker.acquire();
    let response: Awaited<ReturnType<typeof next>>;
    try {
      response = await next(call);
    } catch (error) {
      await ticket.done(error);
      throw error;
    }
    await ticket.done();
    return response;
  };
}
