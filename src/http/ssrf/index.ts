export { BLOCKED_RANGES } from './blocked-ranges.js';
export { type Cidr, cidrContains, formatCidr, parseCidr, parseCidrList } from './cidr.js';
export {
  createGuardedAgent,
  createGuardedDispatcherFactory,
  type GuardedAgentOptions,
  type GuardedDispatcherFactoryOptions,
} from './guarded-agent.js';
export { type Connector, createGuardedConnector, type GuardedConnectorOptions } from './guarded-connector.js';
export { formatIp, type IpAddress, parseIp } from './ip-address.js';
export { type ResolvedAddress, type Resolver, systemResolver } from './resolver.js';
export {
  type AddressVerdict,
  checkDestinationUrl,
  classifyAddress,
  type DestinationCheck,
  type SsrfOptions,
  SsrfPolicy,
} from './ssrf-policy.js';
