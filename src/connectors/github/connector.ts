import type { Connector } from '../provider.js';
import { type GitHubApi, githubApi } from './api.js';
import { type GitHubSettings, githubDefinition } from './definition.js';

/** GitHub as a connection gets it: the definition and the typed REST calls. */
export const githubConnector: Connector<GitHubSettings, GitHubApi> = {
  definition: githubDefinition,
  api: (client) => githubApi(client),
};
