import {
  type FakeDelivery,
  type FakeHook,
  type FakeIssue,
  type FakeRepo,
  type FakeUser,
  isoSeconds,
} from './model.js';

/**
 * The JSON GitHub answers for each kind, with the fields clients read (a subset of GitHub's; every
 * URL points back at the fake). `api` is the origin the request came in on.
 */
export function userJson(user: FakeUser, api: string) {
  return {
    login: user.login,
    id: user.id,
    node_id: nodeId('U', user.id),
    avatar_url: `${api}/avatars/${user.login}`,
    url: `${api}/users/${user.login}`,
    html_url: `${api}/${user.login}`,
    type: 'User',
    site_admin: false,
  };
}

export function repoJson(repo: FakeRepo, api: string) {
  const full = `${repo.owner.login}/${repo.name}`;
  return {
    id: repo.id,
    node_id: nodeId('R', repo.id),
    name: repo.name,
    full_name: full,
    private: repo.private,
    owner: userJson(repo.owner, api),
    html_url: `${api}/${full}`,
    description: repo.description,
    fork: false,
    url: `${api}/repos/${full}`,
    hooks_url: `${api}/repos/${full}/hooks`,
    issues_url: `${api}/repos/${full}/issues{/number}`,
    pulls_url: `${api}/repos/${full}/pulls{/number}`,
    created_at: isoSeconds(repo.createdAt),
    updated_at: isoSeconds(repo.updatedAt),
    pushed_at: isoSeconds(repo.updatedAt),
    default_branch: repo.defaultBranch,
    visibility: repo.private ? 'private' : 'public',
    open_issues_count: [...repo.issues.values()].filter((i) => i.state === 'open').length,
    permissions: { admin: repo.admin, maintain: repo.admin, push: repo.admin, triage: true, pull: true },
  };
}

export function issueJson(repo: FakeRepo, issue: FakeIssue, api: string) {
  const base = `${api}/repos/${repo.owner.login}/${repo.name}`;
  return {
    id: issue.id,
    node_id: nodeId(issue.pull ? 'PR' : 'I', issue.id),
    url: `${base}/issues/${issue.number}`,
    repository_url: base,
    html_url: `${api}/${repo.owner.login}/${repo.name}/${issue.pull ? 'pull' : 'issues'}/${issue.number}`,
    number: issue.number,
    state: issue.state,
    state_reason: issue.stateReason,
    title: issue.title,
    body: issue.body,
    user: userJson(issue.user, api),
    labels: issue.labels.map((name, i) => ({
      id: issue.id * 100 + i,
      name,
      color: 'ededed',
      default: false,
    })),
    assignees: [],
    comments: issue.comments,
    locked: false,
    created_at: isoSeconds(issue.createdAt),
    updated_at: isoSeconds(issue.updatedAt),
    closed_at: issue.closedAt === null ? null : isoSeconds(issue.closedAt),
    author_association: issue.user.login === repo.owner.login ? 'OWNER' : 'CONTRIBUTOR',
    // GitHub lists pull requests among issues, marked by this key: an issue sync must skip them.
    ...(issue.pull && {
      pull_request: {
        url: `${base}/pulls/${issue.number}`,
        html_url: `${api}/${repo.owner.login}/${repo.name}/pull/${issue.number}`,
        merged_at: issue.pull.mergedAt === null ? null : isoSeconds(issue.pull.mergedAt),
      },
    }),
  };
}

export function pullJson(repo: FakeRepo, issue: FakeIssue, api: string) {
  const pull = issue.pull!;
  const base = `${api}/repos/${repo.owner.login}/${repo.name}`;
  const ref = (name: string, sha: string) => ({
    label: `${repo.owner.login}:${name}`,
    ref: name,
    sha,
    user: userJson(repo.owner, api),
    repo: repoJson(repo, api),
  });
  return {
    id: issue.id,
    node_id: nodeId('PR', issue.id),
    url: `${base}/pulls/${issue.number}`,
    html_url: `${api}/${repo.owner.login}/${repo.name}/pull/${issue.number}`,
    issue_url: `${base}/issues/${issue.number}`,
    number: issue.number,
    state: issue.state,
    locked: false,
    title: issue.title,
    body: issue.body,
    user: userJson(issue.user, api),
    labels: issue.labels.map((name, i) => ({
      id: issue.id * 100 + i,
      name,
      color: 'ededed',
      default: false,
    })),
    created_at: isoSeconds(issue.createdAt),
    updated_at: isoSeconds(issue.updatedAt),
    closed_at: issue.closedAt === null ? null : isoSeconds(issue.closedAt),
    merged_at: pull.mergedAt === null ? null : isoSeconds(pull.mergedAt),
    draft: pull.draft,
    head: ref(pull.head, pull.headSha),
    base: ref(pull.base, '0'.repeat(40)),
    author_association: issue.user.login === repo.owner.login ? 'OWNER' : 'CONTRIBUTOR',
  };
}

export function hookJson(repo: FakeRepo, hook: FakeHook, api: string) {
  const base = `${api}/repos/${repo.owner.login}/${repo.name}/hooks/${hook.id}`;
  const { secret, ...config } = hook.config;
  return {
    type: 'Repository',
    id: hook.id,
    name: 'web',
    active: hook.active,
    events: hook.events,
    // GitHub never returns a hook's secret, only that there is one.
    config: { ...config, ...(secret !== undefined && { secret: '********' }) },
    updated_at: isoSeconds(hook.updatedAt),
    created_at: isoSeconds(hook.createdAt),
    url: base,
    test_url: `${base}/test`,
    ping_url: `${base}/pings`,
    deliveries_url: `${base}/deliveries`,
    last_response: hook.lastResponse,
  };
}

export function deliveryItemJson(delivery: FakeDelivery) {
  return {
    id: delivery.id,
    guid: delivery.guid,
    delivered_at: isoSeconds(delivery.deliveredAt),
    redelivery: delivery.redelivery,
    duration: delivery.duration,
    status: delivery.status,
    status_code: delivery.statusCode,
    event: delivery.event,
    action: delivery.action,
    installation_id: null,
    repository_id: delivery.repoId,
    throttled_at: null,
  };
}

export function deliveryJson(delivery: FakeDelivery, api: string) {
  return {
    ...deliveryItemJson(delivery),
    url: `${api}/repositories/${delivery.repoId}/hooks/${delivery.hookId}/deliveries/${delivery.id}`,
    request: { headers: delivery.request.headers, payload: safeJson(delivery.request.payload) },
    response: { headers: delivery.response.headers, payload: delivery.response.payload },
  };
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function nodeId(kind: string, id: number): string {
  return Buffer.from(`${kind}_${id}`).toString('base64url');
}
