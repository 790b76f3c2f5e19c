import { z } from 'zod';
import type { ProviderDefinition } from '../provider.js';
import { githubErrorReader } from './errors.js';
import { DEFAULT_HOURLY_LIMIT, githubRateLimits } from './limits.js';

export const GITHUB_API = 'https://api.github.com';
/** The REST API version Patchbay's calls and schemas are written against. */
export const GITHUB_API_VERSION = '2022-11-28';

/** A connection's `metadata` for `provider: github`. */
export const githubSettingsSchema = z.strictObject({
  /**
   * Requests an hour the token may make. Defaults to 5,000 (a personal token or OAuth app token);
   * 15,000 for Enterprise Cloud, 1,000 for a workflow's `GITHUB_TOKEN`.
   */
  hourlyLimit: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .positive('must be at least 1')
    .default(DEFAULT_HOURLY_LIMIT),
  /**
   * The web host, for the OAuth pages and GitHub Enterprise Server (`https://github.example.com`, whose
   * API is under `/api/v3`). Defaults to `https://github.com`.
   */
  webUrl: z
    .url({ error: 'must be an absolute URL such as "https://github.com"' })
    .transform((url) => url.replace(/\/+$/, ''))
    .default('https://github.com'),
});

export type GitHubSettings = z.output<typeof githubSettingsSchema>;

/**
 * GitHub REST: personal access tokens or an OAuth app, `https://api.github.com` (or a GitHub
 * Enterprise Server's `/api/v3`), the hourly and secondary limits, `link` pagination, webhooks signed
 * with `X-Hub-Signature-256`. https://docs.github.com/rest
 */
export const githubDefinition: ProviderDefinition<GitHubSettings> = {
  id: 'github',
  name: 'GitHub',
  docsUrl: 'https://docs.github.com/rest',
  guide: 'docs/connectors/github.md',
  settings: githubSettingsSchema,
  auth: [
    {
      scheme: 'bearer',
      describe:
        'a personal access token (Settings → Developer settings → Personal access tokens): fine-grained with Issues, Pull requests and Webhooks access to the repositories, or classic with the repo and admin:repo_hook scopes',
    },
    {
      scheme: 'oauth2-authorization-code',
      describe:
        'an OAuth app (Settings → Developer settings → OAuth Apps) with its client id, client secret and the callback URL',
      // https://docs.github.com/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps
      defaults: (settings) => ({
        authorizationUrl: `${settings.webUrl}/login/oauth/authorize`,
        tokenUrl: `${settings.webUrl}/login/oauth/access_token`,
        clientAuth: 'client_secret_post',
        scopes: ['repo', 'admin:repo_hook'],
      }),
    },
  ],
  baseUrl: (settings) =>
    settings.webUrl === 'https://github.com' ? GITHUB_API : `${settings.webUrl}/api/v3`,
  // GitHub refuses requests without a User-Agent; the version header pins the shapes the schemas read.
  headers: () => ({
    accept: 'application/vnd.github+json',
    'user-agent': 'patchbay',
    'x-github-api-version': GITHUB_API_VERSION,
  }),
  rateLimits: (settings) => githubRateLimits(settings),
  readError: () => githubErrorReader(),
  pagination: { kind: 'link' },
  webhook: { scheme: 'github' },
  check: () => ({ path: '/user' }),
};
