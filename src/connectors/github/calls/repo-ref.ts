import { ErrorCode, PatchbayError } from '../../../core/errors.js';

/** A repository by owner and name (`octocat/hello-world`). */
export interface RepoRef {
  owner: string;
  repo: string;
}

const NAME = /^[A-Za-z0-9._-]{1,100}$/;

/** `/repos/{owner}/{repo}`, refusing names that would change the path (a `/`, `..`). */
export function repoPath(ref: RepoRef): string {
  for (const field of ['owner', 'repo'] as const) {
    const value = ref?.[field];
    if (typeof value !== 'string' || !NAME.test(value) || value === '.' || value === '..') {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `GitHub ${field} must be a name of letters, digits, ".", "-" or "_", got ${JSON.stringify(value)}`,
      );
    }
  }
  return `/repos/${ref.owner}/${ref.repo}`;
}

/** A positive whole number for a path segment (an issue number, a hook id). */
export function idSegment(what: string, value: unknown): string {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `GitHub ${what} must be a whole number ≥ 1, got ${JSON.stringify(value)}`,
    );
  }
  return String(value);
}
