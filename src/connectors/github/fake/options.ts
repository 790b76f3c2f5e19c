import type { FakeServerOptions } from '../../fake-kit/index.js';
import { type SecondaryLimitOptions, secondaryDefaults } from './secondary-limits.js';

export interface GitHubFakeOptions extends FakeServerOptions {
  /** The authenticated user's login (every valid token is this user). Defaults to `octocat`. */
  login?: string;
  /** Requests per hour with a token. Defaults to 5,000 (github.com). */
  rateLimit?: number;
  /** Requests per hour without one, per IP. Defaults to 60. */
  anonymousRateLimit?: number;
  /** What an exhausted limit answers: GitHub sends 403 or 429. Defaults to 403. */
  rateLimitStatus?: 403 | 429;
  /** Thresholds of the secondary limits (lower them to reach them in a test). Defaults to GitHub's. */
  secondaryLimits?: Partial<SecondaryLimitOptions>;
  /** How long a hook's receiver may take to answer, in ms. Defaults to 10 s (github.com). */
  deliveryTimeoutMs?: number;
  /** The OAuth app the fake's `/login/oauth/*` endpoints know. Defaults to the one `GET /_fake` lists. */
  oauthApp?: { clientId: string; clientSecret: string };
}

export type ResolvedGitHubFakeOptions = Required<
  Omit<GitHubFakeOptions, keyof FakeServerOptions | 'secondaryLimits'>
> & {
  secondaryLimits: SecondaryLimitOptions;
};

/** The default OAuth app registration, listed at `GET /_fake`. */
export const DEFAULT_OAUTH_APP = {
  clientId: 'Ov23liPatchbayFake01',
  clientSecret: 'fakesecret0000000000000000000000000000001',
} as const;

export function resolveOptions(options: GitHubFakeOptions): ResolvedGitHubFakeOptions {
  const count = (name: string, value: unknown, fallback: number) => {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new RangeError(`github fake: ${name} must be a whole number ≥ 1, got ${String(value)}`);
    }
    return value;
  };
  const status = options.rateLimitStatus ?? 403;
  if (status !== 403 && status !== 429) {
    throw new RangeError(`github fake: rateLimitStatus must be 403 or 429, got ${String(status)}`);
  }
  const login = options.login ?? 'octocat';
  if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$/.test(login)) {
    throw new RangeError(`github fake: login must be a GitHub user name, got ${JSON.stringify(login)}`);
  }
  const secondary = options.secondaryLimits ?? {};
  return {
    login,
    rateLimit: count('rateLimit', options.rateLimit, 5000),
    anonymousRateLimit: count('anonymousRateLimit', options.anonymousRateLimit, 60),
    rateLimitStatus: status,
    deliveryTimeoutMs: count('deliveryTimeoutMs', options.deliveryTimeoutMs, 10_000),
    oauthApp: options.oauthApp ?? { ...DEFAULT_OAUTH_APP },
    secondaryLimits: {
      pointsPerMinute: count(
        'secondaryLimits.pointsPerMinute',
        secondary.pointsPerMinute,
        secondaryDefaults.pointsPerMinute,
      ),
      contentPerMinute: count(
        'secondaryLimits.contentPerMinute',
        secondary.contentPerMinute,
        secondaryDefaults.contentPerMinute,
      ),
      contentPerHour: count(
        'secondaryLimits.contentPerHour',
        secondary.contentPerHour,
        secondaryDefaults.contentPerHour,
      ),
      maxConcurrent: count(
        'secondaryLimits.maxConcurrent',
        secondary.maxConcurrent,
        secondaryDefaults.maxConcurrent,
      ),
    },
  };
}
