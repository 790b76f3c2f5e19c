/**
 * What the GitHub fake holds: users, repositories, their issues (pull requests are issues with a
 * `pull` part, sharing the numbering, as on GitHub), hooks and the deliveries made to them.
 */
export interface FakeUser {
  readonly id: number;
  readonly login: string;
}

export interface FakeRepo {
  readonly id: number;
  name: string;
  readonly owner: FakeUser;
  private: boolean;
  description: string | null;
  readonly createdAt: number;
  updatedAt: number;
  defaultBranch: string;
  /** Whether the authenticated user administers it (hooks need admin rights). */
  admin: boolean;
  /** Issues and pull requests, by number. */
  readonly issues: Map<number, FakeIssue>;
  readonly hooks: Map<number, FakeHook>;
  nextNumber: number;
}

export interface FakePull {
  head: string;
  base: string;
  headSha: string;
  draft: boolean;
  mergedAt: number | null;
}

export interface FakeIssue {
  readonly id: number;
  readonly number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  stateReason: 'completed' | 'not_planned' | 'reopened' | null;
  readonly user: FakeUser;
  labels: string[];
  comments: number;
  readonly createdAt: number;
  updatedAt: number;
  closedAt: number | null;
  /** Present when this issue is a pull request. */
  pull?: FakePull;
}

export interface FakeHook {
  readonly id: number;
  readonly repoId: number;
  active: boolean;
  events: string[];
  config: { url: string; content_type: 'json' | 'form'; secret?: string; insecure_ssl: string };
  readonly createdAt: number;
  updatedAt: number;
  lastResponse: { code: number | null; status: string; message: string | null };
}

export interface FakeDelivery {
  readonly id: number;
  /** `X-GitHub-Delivery`: a redelivery keeps it. */
  readonly guid: string;
  readonly hookId: number;
  readonly repoId: number;
  readonly deliveredAt: number;
  readonly redelivery: boolean;
  duration: number;
  /** "OK" on a 2xx; otherwise what went wrong. */
  status: string;
  statusCode: number;
  readonly event: string;
  readonly action: string | null;
  readonly request: { headers: Record<string, string>; payload: string };
  response: { headers: Record<string, string>; payload: string | null };
}

/** GitHub writes times to the second, in UTC: `2011-04-22T13:33:48Z`. */
export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
