import { ErrorCode, errorMessage, PatchbayError } from '../../core/errors.js';
import type { Resolver } from './resolver.js';
import { type DestinationCheck, type SsrfOptions, SsrfPolicy } from './ssrf-policy.js';

/**
 * Plain http to a name is allowed only to addresses inside `allowedNetworks` (docs/ssrf.md). The URL
 * check cannot see addresses, so a destination being created resolves its name once here and is
 * refused, naming the address, unless every address is inside; the connector checks again at each
 * connection (a name may move).
 */
export async function assertPlainHttpAllowed(
  check: DestinationCheck,
  options: SsrfOptions,
  resolver: Resolver,
  signal: AbortSignal,
): Promise<void> {
  if (!check.httpNeedsAllowedNetwork) return;
  let addresses: readonly { address: string }[];
  try {
    addresses = await resolver(check.hostname, signal);
  } catch (err) {
    throw new PatchbayError(
      ErrorCode.INSECURE_URL,
      `destination URL must use https: plain http needs an address inside allowedNetworks, and ${check.hostname} could not be resolved (${errorMessage(err)})`,
    );
  }
  const policy = new SsrfPolicy(options);
  const outside = addresses.find((a) => !policy.classify(a.address).inAllowedNetwork);
  if (addresses.length === 0 || outside) {
    throw new PatchbayError(
      ErrorCode.INSECURE_URL,
      `destination URL must use https: plain http is allowed only inside allowedNetworks, and ${check.hostname} resolves to ${outside?.address ?? 'no address'}`,
    );
  }
}
