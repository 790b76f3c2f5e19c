import { createHash } from 'node:crypto';
import type { FakeDelivery, FakeHook, FakeIssue, FakePull, FakeRepo, FakeUser } from './model.js';

/** Another account, owner of the repositories the authenticated user may read but not administer. */
export const OTHER_USER: FakeUser = { id: 2, login: 'hubot' };

/** The fake's data. Ids come from one counter, as GitHub's are unique across kinds in practice. */
export class GitHubFakeState {
  readonly viewer: FakeUser;
  readonly repos = new Map<number, FakeRepo>();
  readonly deliveries: FakeDelivery[] = [];
  private nextId = 1000;

  constructor(login: string) {
    this.viewer = { id: 1, login };
  }

  id(): number {
    return this.nextId++;
  }

  /** A repository by `owner/name`, case-insensitively as GitHub matches them. */
  findRepo(owner: string, name: string): FakeRepo | undefined {
    const o = owner.toLowerCase();
    const n = name.toLowerCase();
    for (const repo of this.repos.values()) {
      if (repo.owner.login.toLowerCase() === o && repo.name.toLowerCase() === n) return repo;
    }
    return undefined;
  }

  createRepo(
    input: { name: string; private?: boolean; description?: string | null; owner?: FakeUser },
    now: number,
  ): FakeRepo {
    const owner = input.owner ?? this.viewer;
    const repo: FakeRepo = {
      id: this.id(),
      name: input.name,
      owner,
      private: input.private ?? false,
      description: input.description ?? null,
      createdAt: now,
      updatedAt: now,
      defaultBranch: 'main',
      admin: owner.id === this.viewer.id,
      issues: new Map(),
      hooks: new Map(),
      nextNumber: 1,
    };
    this.repos.set(repo.id, repo);
    return repo;
  }

  createIssue(
    repo: FakeRepo,
    input: {
      title: string;
      body?: string | null;
      labels?: string[];
      user?: FakeUser;
      pull?: Omit<FakePull, 'headSha'>;
    },
    now: number,
  ): FakeIssue {
    const number = repo.nextNumber++;
    const issue: FakeIssue = {
      id: this.id(),
      number,
      title: input.title,
      body: input.body ?? null,
      state: 'open',
      stateReason: null,
      user: input.user ?? this.viewer,
      labels: input.labels ?? [],
      comments: 0,
      createdAt: now,
      updatedAt: now,
      closedAt: null,
      ...(input.pull && { pull: { ...input.pull, headSha: sha(`${repo.id}:${number}:${input.pull.head}`) } }),
    };
    repo.issues.set(number, issue);
    repo.updatedAt = now;
    return issue;
  }

  createHook(
    repo: FakeRepo,
    input: Omit<FakeHook, 'id' | 'repoId' | 'createdAt' | 'updatedAt' | 'lastResponse'>,
    now: number,
  ): FakeHook {
    const hook: FakeHook = {
      ...input,
      id: this.id(),
      repoId: repo.id,
      createdAt: now,
      updatedAt: now,
      lastResponse: { code: null, status: 'unused', message: null },
    };
    repo.hooks.set(hook.id, hook);
    return hook;
  }

  /** Sets an issue's state the way GitHub does: closing stamps `closed_at`, reopening clears it. */
  setState(
    issue: FakeIssue,
    state: 'open' | 'closed',
    reason: FakeIssue['stateReason'] | undefined,
    now: number,
  ): void {
    if (issue.state === state) return;
    issue.state = state;
    issue.closedAt = state === 'closed' ? now : null;
    issue.stateReason = state === 'closed' ? (reason ?? 'completed') : 'reopened';
  }
}

function sha(seed: string): string {
  return createHash('sha1').update(seed).digest('hex');
}
