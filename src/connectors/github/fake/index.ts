export { githubFake, type RunningGitHubFake, startGitHubFake } from './github-fake.js';
export { DEFAULT_OAUTH_APP, type GitHubFakeOptions } from './options.js';
export type { GitHubSeed, SeedIssue } from './seed.js';
