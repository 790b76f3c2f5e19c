import type { FakeIssue } from './model.js';
import { type GitHubFakeState, OTHER_USER } from './state.js';

/** `POST /_fake/seed` for GitHub: repositories with generated or given issues and pull requests. */
export interface GitHubSeed {
  repos?: {
    name: string;
    private?: boolean;
    /** `hubot` makes a repository the fake user can read but not administer. */
    owner?: string;
    /** A count of generated issues, or the issues themselves. */
    issues?: number | SeedIssue[];
    pulls?: number | SeedIssue[];
  }[];
  /** Leaves this many requests in the authenticated user's hour (0: exhausted). */
  rateLimitRemaining?: number;
}

export interface SeedIssue {
  title: string;
  state?: 'open' | 'closed';
  labels?: string[];
  /** ms before the fake's now when it was last updated. Defaults to spreading them a minute apart. */
  updatedAgoMs?: number;
}

export function seedError(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null)
    return 'the seed must be an object: { "repos": [ { "name": "widgets", "issues": 50 } ] }';
  const seed = input as GitHubSeed;
  if (seed.repos !== undefined && !Array.isArray(seed.repos)) return 'repos must be an array';
  for (const [i, repo] of (seed.repos ?? []).entries()) {
    if (typeof repo?.name !== 'string' || !/^[A-Za-z0-9._-]{1,100}$/.test(repo.name))
      return `repos[${i}].name must be a repository name`;
    for (const kind of ['issues', 'pulls'] as const) {
      const v = repo[kind];
      if (v === undefined) continue;
      if (typeof v === 'number' ? !Number.isInteger(v) || v < 0 || v > 100_000 : !Array.isArray(v)) {
        return `repos[${i}].${kind} must be a count (0–100000) or an array of { title }`;
      }
    }
  }
  if (
    seed.rateLimitRemaining !== undefined &&
    (!Number.isInteger(seed.rateLimitRemaining) || seed.rateLimitRemaining < 0)
  ) {
    return 'rateLimitRemaining must be a whole number ≥ 0';
  }
  return undefined;
}

/** Applies a checked seed; returns what was made. */
export function applySeed(state: GitHubFakeState, seed: GitHubSeed, now: number) {
  const made: { repo: string; issues: number; pulls: number }[] = [];
  for (const input of seed.repos ?? []) {
    const owner = input.owner === OTHER_USER.login ? OTHER_USER : state.viewer;
    const repo =
      state.findRepo(owner.login, input.name) ??
      state.createRepo({ name: input.name, private: input.private ?? false, owner }, now);
    const issues = expand(input.issues, 'Issue');
    const pulls = expand(input.pulls, 'Pull request');
    const all = [...issues.map((i) => ({ ...i, pull: false })), ...pulls.map((i) => ({ ...i, pull: true }))];
    for (const [index, item] of all.entries()) {
      const at = now - (item.updatedAgoMs ?? (all.length - index) * 60_000);
      const issue: FakeIssue = state.createIssue(
        repo,
        {
          title: item.title,
          labels: item.labels ?? [],
          ...(item.pull && {
            pull: { head: `feature-${repo.nextNumber}`, base: 'main', draft: false, mergedAt: null },
          }),
        },
        at,
      );
      if (item.state === 'closed') state.setState(issue, 'closed', 'completed', at);
    }
    made.push({ repo: `${owner.login}/${repo.name}`, issues: issues.length, pulls: pulls.length });
  }
  return made;
}

function expand(value: number | SeedIssue[] | undefined, noun: string): SeedIssue[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value;
  return Array.from({ length: value }, (_, i) => ({ title: `${noun} ${i + 1}` }));
}
