export { type CallOptions, type GitHubApi, githubApi } from './api.js';
export * from './calls/index.js';
export type { GitHubPage } from './calls/pages.js';
export { githubConnector } from './connector.js';
export { GITHUB_API, GITHUB_API_VERSION, type GitHubSettings, githubDefinition } from './definition.js';
export { githubErrorReader, SecondaryBackoff } from './errors.js';
export {
  REDELIVERY_WINDOW_MS,
  type RedeliveryOptions,
  type RedeliveryReport,
  redeliverFailed,
} from './redeliver-failed.js';
export type {
  GitHubDelivery,
  GitHubHook,
  GitHubIssue,
  GitHubPull,
  GitHubRepo,
  GitHubUser,
} from './schemas.js';
export { githubIssues, githubPulls } from './sync-models.js';
export type { IssueRecord, PullRecord } from './sync-records.js';
