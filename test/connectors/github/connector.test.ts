import { afterEach, describe, expect, it } from 'vitest';
import {
  type GitHubFakeOptions,
  type RunningGitHubFake,
  startGitHubFake,
} from '../../../src/connectors/github/fake/index.js';
import {
  githubConnector,
  githubErrorReader,
  SecondaryBackoff,
} from '../../../src/connectors/github/index.js';
import { ErrorCode } from '../../../src/core/errors.js';
import { rejection } from '../../http/helpers.js';
import { HookReceiver } from '../hook-receiver.js';
import { type ConnectorSetup, connectorSetup, driveWith } from './connector-setup.js';

const TOKEN = `ghp_${'d'.repeat(36)}`;
const REPO = { owner: 'octocat', repo: 'hello-world' };

let fake: RunningGitHubFake;
let setup: ConnectorSetup;
let receiver: HookReceiver | undefined;

async function start(options: GitHubFakeOptions = {}) {
  fake = await startGitHubFake(options);
  fake.clock.freeze();
  setup = await connectorSetup({ start: fake.clock.now() });
  await setup.vault.connections.create({
    id: 'gh',
    provider: 'github',
    baseUrl: fake.url,
    auth: { scheme: 'bearer', token: TOKEN },
  });
  return setup.clients.api('gh', githubConnector);
}
afterEach(async () => {
  await setup?.close();
  await fake?.close();
  await receiver?.stop();
  receiver = undefined;
});

const seed = (body: unknown) =>
  fetch(`${fake.url}/_fake/seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const stats = async () =>
  ((await (await fetch(`${fake.url}/_fake/stats`)).json()) as { counters: Record<string, number> }).counters;
const requests = async () => (await stats()).requests ?? 0;

describe('a connection with provider: github', () => {
  it('calls with its token, a User-Agent and the API version, following link pages', async () => {
    const github = await start();
    expect((await github.user()).login).toBe('octocat');
    await seed({ repos: [{ name: 'hello-world', issues: 230, pulls: 5 }] });
    const pages: number[] = [];
    for await (const page of github.issues.pages(REPO, { state: 'all' })) pages.push(page.items.length);
    expect(pages).toEqual([100, 100, 35]);
    const issues = [];
    for await (const issue of github.issues.list(REPO, { state: 'all' })) issues.push(issue);
    // Pull requests are on GitHub's issues list; list() leaves them out.
    expect(issues).toHaveLength(230);
    const created = await github.issues.create(REPO, { title: 'From Patchbay', labels: ['bug'] });
    const closed = await github.issues.update(REPO, created.number, {
      state: 'closed',
      stateReason: 'not_planned',
    });
    expect(closed).toMatchObject({ state: 'closed', state_reason: 'not_planned' });
  });

  it('refuses a bad repository name before calling', async () => {
    const github = await start();
    const error = await rejection(github.issues.get({ owner: 'octocat', repo: '../user' }, 1));
    expect(error.code).toBe(ErrorCode.INVALID_ARGUMENT);
    expect(await requests()).toBe(0);
  });

  it('waits for the reset of an exhausted primary limit, then goes on', async () => {
    const github = await start({ rateLimitStatus: 429 });
    await seed({ rateLimitRemaining: 0 });
    const before = setup.clock.now();
    const user = await driveWith(setup.clock, fake, github.user());
    expect(user.login).toBe('octocat');
    // One refused attempt, then the one after the hour's reset: nothing in between.
    expect(await requests()).toBe(2);
    expect(setup.clock.now() - before).toBeGreaterThanOrEqual(3_599_000);
  });

  it('honours the retry-after of a secondary limit', async () => {
    const github = await start({ secondaryLimits: { pointsPerMinute: 2 } });
    await github.repos.get(REPO);
    await github.repos.get(REPO);
    const before = setup.clock.now();
    const repo = await driveWith(setup.clock, fake, github.repos.get(REPO));
    expect(repo.full_name).toBe('octocat/hello-world');
    // The fake's retry-after (60 s), and the limiter's safety margin on top.
    expect(setup.clock.now() - before).toBeGreaterThanOrEqual(60_000);
    expect(setup.clock.now() - before).toBeLessThan(61_000);
    expect(await requests()).toBe(4);
  });

  it('backs a secondary limit without retry-after off for a minute, on every call of the connection', async () => {
    const github = await start({ secondaryLimits: { contentPerMinute: 1 } });
    await github.issues.create(REPO, { title: 'one' });
    const error = await rejection(github.issues.create(REPO, { title: 'two' }));
    expect(error).toMatchObject({ status: 403, retryAfterMs: 60_000 });
    expect((error.data as { upstream: { limit: string } }).upstream.limit).toBe('secondary');
    // The connection's limiter holds every call for that minute.
    const before = setup.clock.now();
    await driveWith(setup.clock, fake, github.user());
    expect(setup.clock.now() - before).toBe(60_000);
  });

  it('fails a permission 403 at once, without retrying or holding other calls', async () => {
    const github = await start();
    await seed({ repos: [{ name: 'theirs', owner: 'hubot' }] });
    const error = await rejection(github.hooks.list({ owner: 'hubot', repo: 'theirs' }));
    expect(error).toMatchObject({ code: ErrorCode.HTTP_CLIENT_ERROR, status: 403 });
    expect(error.message).toContain('Must have admin rights to Repository.');
    expect(await requests()).toBe(1);
    await github.user();
  });

  it('redelivers the events whose every delivery failed, with their GUIDs, once', async () => {
    const github = await start();
    receiver = await new HookReceiver().start();
    let failing = true;
    receiver.answer = (_hit, res) => res.writeHead(failing ? 502 : 200).end();
    const hook = await github.hooks.create(REPO, { url: receiver.url, secret: 's', events: ['issues'] });
    await github.issues.create(REPO, { title: 'a' });
    await github.issues.create(REPO, { title: 'b' });
    await fake.deliveriesSettled();
    expect(receiver.hits).toHaveLength(3);
    const failedGuids = receiver.hits.map((h) => h.headers['x-github-delivery']);

    failing = false;
    const report = await github.hooks.redeliverFailed(REPO, hook.id, { now: setup.clock.now() });
    expect(report.redelivered.map((r) => r.event).sort()).toEqual(['issues', 'issues', 'ping']);
    await fake.deliveriesSettled();
    expect(
      receiver.hits
        .slice(3)
        .map((h) => h.headers['x-github-delivery'])
        .sort(),
    ).toEqual([...failedGuids].sort());

    const again = await github.hooks.redeliverFailed(REPO, hook.id, { now: setup.clock.now() });
    expect(again.redelivered).toEqual([]);
    expect(again.checked).toBe(6);
  });

  it('reports failed deliveries older than GitHub’s 3 days as too old instead of asking', async () => {
    const github = await start();
    receiver = await new HookReceiver().start();
    receiver.answer = (_hit, res) => res.writeHead(500).end();
    const hook = await github.hooks.create(REPO, { url: receiver.url });
    await fake.deliveriesSettled();
    const later = setup.clock.now() + 4 * 24 * 3_600_000;
    const report = await github.hooks.redeliverFailed(REPO, hook.id, { now: later, since: 0 });
    expect(report.redelivered).toEqual([]);
    expect(report.tooOld).toHaveLength(1);
  });
});

describe('GitHub error reading', () => {
  const secondary = JSON.stringify({
    message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.',
  });

  it('doubles the wait for secondary limits that keep coming, and starts over after a quiet spell', () => {
    const backoff = new SecondaryBackoff();
    expect(backoff.next(0)).toBe(60_000);
    expect(backoff.next(70_000)).toBe(120_000);
    expect(backoff.next(200_000)).toBe(240_000);
    expect(backoff.next(2_000_000)).toBe(60_000);
  });

  it('reads a secondary 403 as transient, leaving the wait to retry-after when there is one', () => {
    const read = githubErrorReader();
    const headers = { 'x-ratelimit-remaining': '4000' };
    expect(read({ status: 403, headers, body: secondary }, 0)).toMatchObject({
      classification: 'transient',
      retryAfterMs: 60_000,
    });
    const told = read({ status: 403, headers: { ...headers, 'retry-after': '30' }, body: secondary }, 0)!;
    expect(told.classification).toBe('transient');
    expect(told.retryAfterMs).toBeUndefined();
    expect(
      read(
        { status: 403, headers, body: JSON.stringify({ message: 'Resource not accessible by integration' }) },
        0,
      )?.classification,
    ).toBeUndefined();
  });
});
