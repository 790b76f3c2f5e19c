import { Agent, type Dispatcher, Pool } from 'undici';
import { createGuardedConnector, type GuardedConnectorOptions } from './guarded-connector.js';
import { SsrfPolicy } from './ssrf-policy.js';

export interface GuardedAgentOptions extends GuardedConnectorOptions {
  /** Other undici Agent options (timeouts, connections). `connect` is always the guarded connector. */
  agentOptions?: Omit<Agent.Options, 'connect'>;
}

/**
 * An undici Agent whose every new connection goes through the SSRF guard. Like any undici dispatcher it
 * never follows redirects (undici 7 only does with an explicit redirect interceptor): a 3xx comes back as
 * a response, and the delivery worker counts it as a failure.
 */
export function createGuardedAgent(options: GuardedAgentOptions = {}): Agent {
  const { agentOptions, ...guard } = options;
  return new Agent({ ...agentOptions, connect: createGuardedConnector(guard) });
}

export interface GuardedDispatcherFactoryOptions extends GuardedConnectorOptions {
  /** Pool options per destination origin. Defaults to 16 connections, no pipelining, 10 s keep-alive. */
  poolOptions?: Omit<Pool.Options, 'connect'>;
}

/**
 * A `(url) => Dispatcher` factory (the delivery sender's `DispatcherFactory`): each destination origin gets
 * a Pool behind the guard. The URL itself is checked first (scheme, credentials, literal addresses), so a
 * refused destination throws `PatchbayError` before any pool exists.
 */
export function createGuardedDispatcherFactory(
  options: GuardedDispatcherFactoryOptions = {},
): (url: URL) => Dispatcher {
  const { poolOptions, ...guard } = options;
  const policy = guard.policy ?? new SsrfPolicy(guard);
  const connect = createGuardedConnector({ ...guard, policy });
  return (url) => {
    policy.checkUrl(url);
    return new Pool(url.origin, {
      connections: 16,
      pipelining: 1,
      keepAliveTimeout: 10_000,
      ...poolOptions,
      connect,
    });
  };
}
