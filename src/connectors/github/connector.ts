import type { Connector } from '../provider.js';
import { type GitHubApi, githubApi } from './api.js';
import { type GitHubSettings, githubDefinition } from './definition.js';
import { githubIssues, githubPulls } from './sync-models.js';

/** GitHub as a connection gets it: the definition, the typed REST calls and the sync models. */
export const githubConnector: Connector<GitHubSettings, GitHubApi> = {
  definition: githubDefinition,
  api: (client) => githubApi(client),
  models: [githubIssues, githubPulls],
};
