import { Octokit } from '@octokit/rest';
import { verify } from '@octokit/webhooks-methods';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningGitHubFake, startGitHubFake } from '../../../src/connectors/github/fake/index.js';
import { HookReceiver } from '../hook-receiver.js';

const TOKEN = `ghp_${'a'.repeat(36)}`;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let fake: RunningGitHubFake;
let octokit: Octokit;
let receiver: HookReceiver;

beforeEach(async () => {
  fake = await startGitHubFake();
  // The official SDK, unmodified, pointed at the fake the way GitHub Enterprise users point it.
  octokit = new Octokit({ auth: TOKEN, baseUrl: fake.url, log: quiet });
  receiver = await new HookReceiver().start();
});
afterEach(async () => {
  await fake.close();
  await receiver.stop();
});

const seed = (body: unknown) =>
  fetch(`${fake.url}/_fake/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

describe('@octokit/rest against the GitHub fake', () => {
  it('reads the authenticated user and its repositories', async () => {
    const { data: user } = await octokit.rest.users.getAuthenticated();
    expect(user.login).toBe('octocat');
    const { data: repos } = await octokit.rest.repos.listForAuthenticatedUser();
    expect(repos.map((r) => r.full_name)).toEqual(['octocat/hello-world']);
    const created = await octokit.rest.repos.createForAuthenticatedUser({ name: 'widgets', private: true });
    expect(created.status).toBe(201);
    const { data: repo } = await octokit.rest.repos.get({ owner: 'OctoCat', repo: 'WIDGETS' });
    expect(repo).toMatchObject({ full_name: 'octocat/widgets', private: true, permissions: { admin: true } });
  });

  it('pages through every issue with paginate, following the link header to the last page', async () => {
    await seed({ repos: [{ name: 'widgets', issues: 75 }] });
    const pages: number[] = [];
    const issues = await octokit.paginate(
      octokit.rest.issues.listForRepo,
      { owner: 'octocat', repo: 'widgets', per_page: 30, state: 'all' },
      (response) => {
        pages.push(response.data.length);
        return response.data;
      },
    );
    expect(pages).toEqual([30, 30, 15]);
    expect(issues).toHaveLength(75);
    expect(new Set(issues.map((i) => i.number)).size).toBe(75);
    // Newest first by default.
    expect(issues[0]!.number).toBe(75);
  });

  it('lists pull requests among issues (marked pull_request) and on their own', async () => {
    await seed({ repos: [{ name: 'widgets', issues: 3, pulls: 2 }] });
    const { data: issues } = await octokit.rest.issues.listForRepo({ owner: 'octocat', repo: 'widgets' });
    expect(issues).toHaveLength(5);
    expect(issues.filter((i) => i.pull_request)).toHaveLength(2);
    const { data: pulls } = await octokit.rest.pulls.list({ owner: 'octocat', repo: 'widgets' });
    expect(pulls.map((p) => p.number)).toEqual([5, 4]);
    expect(pulls[0]).toMatchObject({ base: { ref: 'main' }, merged_at: null, state: 'open' });
  });

  it('creates, edits and closes issues and merges a pull request', async () => {
    const { data: issue } = await octokit.rest.issues.create({
      owner: 'octocat',
      repo: 'hello-world',
      title: 'Broken',
      labels: ['bug'],
    });
    expect(issue).toMatchObject({ number: 1, state: 'open', labels: [{ name: 'bug' }] });
    const { data: closed } = await octokit.rest.issues.update({
      owner: 'octocat',
      repo: 'hello-world',
      issue_number: 1,
      state: 'closed',
      state_reason: 'not_planned',
    });
    expect(closed).toMatchObject({ state: 'closed', state_reason: 'not_planned' });
    expect(closed.closed_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const { data: pull } = await octokit.rest.pulls.create({
      owner: 'octocat',
      repo: 'hello-world',
      title: 'Fix',
      head: 'fix',
      base: 'main',
    });
    expect(pull.number).toBe(2);
    const { data: merge } = await octokit.rest.pulls.merge({
      owner: 'octocat',
      repo: 'hello-world',
      pull_number: 2,
    });
    expect(merge.merged).toBe(true);
    const { data: merged } = await octokit.rest.pulls.get({
      owner: 'octocat',
      repo: 'hello-world',
      pull_number: 2,
    });
    expect(merged).toMatchObject({ state: 'closed' });
    expect(merged.merged_at).not.toBeNull();
  });

  it('refuses a missing title with GitHub’s 422 and its errors list', async () => {
    const error = await octokit.rest.issues
      .create({ owner: 'octocat', repo: 'hello-world', title: '' })
      .catch((e) => e);
    expect(error.status).toBe(422);
    expect(error.response.data).toMatchObject({
      message: 'Validation Failed',
      errors: [{ resource: 'Issue', field: 'title', code: 'missing_field' }],
    });
  });

  it('creates a hook that is pinged, signed with X-Hub-Signature-256 over the raw form body', async () => {
    const { data: hook } = await octokit.rest.repos.createWebhook({
      owner: 'octocat',
      repo: 'hello-world',
      config: { url: receiver.url, secret: 'It’s a secret' },
      events: ['issues'],
    });
    expect(hook.config).toMatchObject({ url: receiver.url, content_type: 'form', secret: '********' });
    const [ping] = await receiver.waitFor(1);
    expect(ping!.headers).toMatchObject({
      'x-github-event': 'ping',
      'x-github-hook-id': String(hook.id),
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(ping!.headers['user-agent']).toMatch(/^GitHub-Hookshot\//);
    expect(ping!.headers['x-hub-signature']).toMatch(/^sha1=[0-9a-f]{40}$/);
    // An independent verifier (GitHub's own) agrees with the signature over the exact bytes.
    expect(await verify('It’s a secret', ping!.body, String(ping!.headers['x-hub-signature-256']))).toBe(
      true,
    );
    const payload = JSON.parse(new URLSearchParams(ping!.body).get('payload')!);
    expect(payload).toMatchObject({ hook_id: hook.id, zen: expect.any(String) });

    await octokit.rest.issues.create({ owner: 'octocat', repo: 'hello-world', title: 'Hello' });
    const hits = await receiver.waitFor(2);
    expect(hits[1]!.headers['x-github-event']).toBe('issues');
    const opened = JSON.parse(new URLSearchParams(hits[1]!.body).get('payload')!);
    expect(opened).toMatchObject({ action: 'opened', issue: { number: 1, title: 'Hello' } });
  });

  it('lists hook deliveries with status and redelivery, and redelivers with the same GUID', async () => {
    receiver.answer = (_hit, res) => res.writeHead(503).end('busy');
    const { data: hook } = await octokit.rest.repos.createWebhook({
      owner: 'octocat',
      repo: 'hello-world',
      config: { url: receiver.url, content_type: 'json', secret: 's3cret' },
    });
    await fake.deliveriesSettled();
    const { data: failed } = await octokit.rest.repos.listWebhookDeliveries({
      owner: 'octocat',
      repo: 'hello-world',
      hook_id: hook.id,
    });
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      status: 'Invalid HTTP Response: 503',
      status_code: 503,
      redelivery: false,
      event: 'ping',
    });
    // GitHub does not retry: still one request after the failure.
    expect(receiver.hits).toHaveLength(1);

    receiver.answer = (_hit, res) => res.writeHead(204).end();
    const attempt = await octokit.rest.repos.redeliverWebhookDelivery({
      owner: 'octocat',
      repo: 'hello-world',
      hook_id: hook.id,
      delivery_id: failed[0]!.id,
    });
    expect(attempt.status).toBe(202);
    await fake.deliveriesSettled();
    expect(receiver.hits).toHaveLength(2);
    expect(receiver.hits[1]!.headers['x-github-delivery']).toBe(
      receiver.hits[0]!.headers['x-github-delivery'],
    );
    expect(receiver.hits[1]!.body).toBe(receiver.hits[0]!.body);
    const { data: all } = await octokit.rest.repos.listWebhookDeliveries({
      owner: 'octocat',
      repo: 'hello-world',
      hook_id: hook.id,
    });
    expect(all.map((d) => [d.status, d.redelivery])).toEqual([
      ['OK', true],
      ['Invalid HTTP Response: 503', false],
    ]);
    const { data: detail } = await octokit.rest.repos.getWebhookDelivery({
      owner: 'octocat',
      repo: 'hello-world',
      hook_id: hook.id,
      delivery_id: all[0]!.id,
    });
    expect(detail.request.headers?.['X-GitHub-Event']).toBe('ping');
    expect(detail.response.payload).toBe('');
  });

  it('pages hook deliveries by opaque cursor, with paginate', async () => {
    const { data: hook } = await octokit.rest.repos.createWebhook({
      owner: 'octocat',
      repo: 'hello-world',
      config: { url: receiver.url, content_type: 'json' },
    });
    for (let i = 0; i < 4; i++)
      await octokit.rest.repos.pingWebhook({ owner: 'octocat', repo: 'hello-world', hook_id: hook.id });
    await fake.deliveriesSettled();
    const deliveries = await octokit.paginate(octokit.rest.repos.listWebhookDeliveries, {
      owner: 'octocat',
      repo: 'hello-world',
      hook_id: hook.id,
      per_page: 2,
    });
    expect(deliveries).toHaveLength(5);
  });
});
