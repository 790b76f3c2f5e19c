import { emit, type GitHubFakeContext } from './context.js';
import type { FakeIssue, FakeRepo } from './model.js';
import { issueJson, pullJson, repoJson, userJson } from './representations.js';

/**
 * Sends the webhook for a change to an issue or a pull request: `issues` with `{ action, issue }`,
 * or `pull_request` with `{ action, number, pull_request }`, both with `repository` and `sender`.
 * https://docs.github.com/webhooks/webhook-events-and-payloads
 */
export function emitChange(
  ctx: GitHubFakeContext,
  repo: FakeRepo,
  issue: FakeIssue,
  action: string,
  origin: string,
): void {
  const common = { repository: repoJson(repo, origin), sender: userJson(ctx.state.viewer, origin) };
  if (issue.pull) {
    emit(ctx, repo, 'pull_request', action, {
      number: issue.number,
      pull_request: pullJson(repo, issue, origin),
      ...common,
    });
  } else {
    emit(ctx, repo, 'issues', action, { issue: issueJson(repo, issue, origin), ...common });
  }
}
