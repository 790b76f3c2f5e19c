import { Octokit } from '@octokit/rest';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type GitHubFakeOptions,
  type RunningGitHubFake,
  startGitHubFake,
} from '../../../src/connectors/github/fake/index.js';
import { HookReceiver } from '../hook-receiver.js';

const TOKEN = `ghp_${'b'.repeat(36)}`;
const auth = { authorization: `token ${TOKEN}` };
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let fake: RunningGitHubFake | undefined;
let receiver: HookReceiver | undefined;
afterEach(async () => {
  await fake?.close();
  await receiver?.stop();
  fake = undefined;
  receiver = undefined;
});

async function start(options: GitHubFakeOptions = {}) {
  fake = await startGitHubFake(options);
  return fake;
}
const call = (path: string, init: RequestInit = {}) =>
  fetch(`${fake!.url}${path}`, {
    ...init,
    headers: { ...auth, ...(init.headers as Record<string, string>) },
  });
const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
  fetch(`${fake!.url}${path}`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
const seed = (body: unknown) => post('/_fake/seed', body, {});

describe('GitHub fake: link headers', () => {
  it('sends no link header when everything fits on one page', async () => {
    await start();
    await seed({ repos: [{ name: 'small', issues: 3 }] });
    const res = await call('/repos/octocat/small/issues');
    expect(res.headers.get('link')).toBeNull();
    expect(await res.json()).toHaveLength(3);
  });

  it('links next and last from page 1, prev/next/last/first from the middle, prev and first from the end', async () => {
    const { url } = await start();
    await seed({ repos: [{ name: 'big', issues: 7 }] });
    const repoId = ((await (await call('/repos/octocat/big')).json()) as { id: number }).id;
    const base = `${url}/repositories/${repoId}/issues`;
    expect((await call('/repos/octocat/big/issues?per_page=3')).headers.get('link')).toBe(
      `<${base}?per_page=3&page=2>; rel="next", <${base}?per_page=3&page=3>; rel="last"`,
    );
    // The links point at /repositories/{id}: a client must follow them, not build them.
    const middle = await fetch(`${base}?per_page=3&page=2`, { headers: auth });
    expect(middle.headers.get('link')).toBe(
      `<${base}?per_page=3&page=1>; rel="prev", <${base}?per_page=3&page=3>; rel="next", <${base}?per_page=3&page=3>; rel="last", <${base}?per_page=3&page=1>; rel="first"`,
    );
    const last = await call('/repos/octocat/big/issues?per_page=3&page=3');
    expect(last.headers.get('link')).toBe(
      `<${base}?per_page=3&page=2>; rel="prev", <${base}?per_page=3&page=1>; rel="first"`,
    );
    expect(await last.json()).toHaveLength(1);
  });

  it('caps per_page at 100 and echoes the caller’s query in the links', async () => {
    await start();
    await seed({ repos: [{ name: 'big', issues: 150 }] });
    const res = await call('/repos/octocat/big/issues?per_page=500&state=all');
    expect(await res.json()).toHaveLength(100);
    expect(res.headers.get('link')).toMatch(/\?per_page=500&state=all&page=2>; rel="next"/);
  });

  it('links hook deliveries by an opaque cursor, with next only (no last)', async () => {
    await start();
    receiver = await new HookReceiver().start();
    const hook = (await (
      await post('/repos/octocat/hello-world/hooks', { config: { url: receiver.url } })
    ).json()) as { id: number };
    await call(`/repos/octocat/hello-world/hooks/${hook.id}/pings`, { method: 'POST' });
    await fake!.deliveriesSettled();
    const res = await call(`/repos/octocat/hello-world/hooks/${hook.id}/deliveries?per_page=1`);
    const link = res.headers.get('link')!;
    expect(link).toMatch(/^<[^>]+[?&]cursor=[\w-]+>; rel="next"$/);
    expect(link).not.toContain('rel="last"');
    const second = await fetch(link.slice(1, link.indexOf('>')), { headers: auth });
    expect(second.headers.get('link')).toBeNull();
    expect((await call(`/repos/octocat/hello-world/hooks/${hook.id}/deliveries?cursor=bogus`)).status).toBe(
      400,
    );
  });
});

describe('GitHub fake: incremental reads', () => {
  it('keeps issues updated at or after since, to the second', async () => {
    await start();
    await seed({
      repos: [
        {
          name: 'w',
          issues: [
            { title: 'old', updatedAgoMs: 3_600_000 },
            { title: 'new', updatedAgoMs: 60_000 },
          ],
        },
      ],
    });
    const cut = new Date(fake!.clock.now() - 120_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const issues = (await (await call(`/repos/octocat/w/issues?since=${cut}&state=all`)).json()) as {
      title: string;
    }[];
    expect(issues.map((i) => i.title)).toEqual(['new']);
    expect((await call('/repos/octocat/w/issues?since=yesterday')).status).toBe(422);
  });

  it('ignores since on pulls and sorts them ascending when sorted by updated', async () => {
    await start();
    await seed({
      repos: [
        {
          name: 'w',
          pulls: [
            { title: 'a', updatedAgoMs: 30_000 },
            { title: 'b', updatedAgoMs: 90_000 },
          ],
        },
      ],
    });
    const pulls = (await (
      await call('/repos/octocat/w/pulls?sort=updated&since=2999-01-01T00:00:00Z')
    ).json()) as { title: string }[];
    expect(pulls.map((p) => p.title)).toEqual(['b', 'a']);
    const desc = (await (await call('/repos/octocat/w/pulls?sort=updated&direction=desc')).json()) as {
      title: string;
    }[];
    expect(desc.map((p) => p.title)).toEqual(['a', 'b']);
  });
});

describe('GitHub fake: rate limits', () => {
  it('sends lowercase x-ratelimit-* headers with the reset in epoch seconds', async () => {
    await start({ rateLimit: 10 });
    const res = await call('/user');
    expect(res.headers.get('x-ratelimit-limit')).toBe('10');
    expect(res.headers.get('x-ratelimit-remaining')).toBe('9');
    expect(res.headers.get('x-ratelimit-used')).toBe('1');
    expect(res.headers.get('x-ratelimit-resource')).toBe('core');
    const reset = Number(res.headers.get('x-ratelimit-reset'));
    expect(reset).toBeGreaterThan(fake!.clock.now() / 1000 + 3590);
    expect(reset).toBeLessThan(fake!.clock.now() / 1000 + 3601);
  });

  it('does not count GET /rate_limit', async () => {
    await start({ rateLimit: 10 });
    await call('/user');
    for (let i = 0; i < 3; i++) await call('/rate_limit');
    const body = (await (await call('/rate_limit')).json()) as {
      resources: { core: { remaining: number; used: number } };
    };
    expect(body.resources.core).toMatchObject({ remaining: 9, used: 1 });
  });

  for (const status of [403, 429] as const) {
    it(`answers an exhausted primary limit with ${status}, remaining 0 and the reset; the next window opens after it`, async () => {
      await start({ rateLimit: 2, rateLimitStatus: status });
      await call('/user');
      await call('/user');
      const res = await call('/user');
      expect(res.status).toBe(status);
      expect(res.headers.get('x-ratelimit-remaining')).toBe('0');
      expect(res.headers.get('retry-after')).toBeNull();
      expect(await res.json()).toMatchObject({ message: 'API rate limit exceeded for user ID 1.' });
      fake!.clock.advance(3_600_000);
      expect((await call('/user')).status).toBe(200);
    });
  }

  it('tells a permission 403 apart: quota left, no retry-after', async () => {
    await start();
    await seed({ repos: [{ name: 'theirs', owner: 'hubot' }] });
    const res = await call('/repos/hubot/theirs/hooks');
    expect(res.status).toBe(403);
    expect(Number(res.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(await res.json()).toMatchObject({ message: 'Must have admin rights to Repository.' });
  });

  it('answers the points secondary limit with retry-after and the secondary message', async () => {
    await start({ secondaryLimits: { pointsPerMinute: 3 } });
    for (let i = 0; i < 3; i++) expect((await call('/repos/octocat/hello-world')).status).toBe(200);
    const res = await call('/repos/octocat/hello-world');
    expect(res.status).toBe(403);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers.get('x-ratelimit-remaining'))).toBeGreaterThan(0);
    expect(((await res.json()) as { message: string }).message).toMatch(
      /^You have exceeded a secondary rate limit/,
    );
    // Another endpoint has its own budget.
    expect((await call('/user')).status).toBe(200);
    fake!.clock.advance(60_000);
    expect((await call('/repos/octocat/hello-world')).status).toBe(200);
  });

  it('blocks content creation with the message only (no retry-after) past the per-minute budget', async () => {
    await start({ secondaryLimits: { contentPerMinute: 2 } });
    for (let i = 0; i < 2; i++)
      expect((await post('/repos/octocat/hello-world/issues', { title: `t${i}` })).status).toBe(201);
    const res = await post('/repos/octocat/hello-world/issues', { title: 'one too many' });
    expect(res.status).toBe(403);
    expect(res.headers.get('retry-after')).toBeNull();
    expect(((await res.json()) as { message: string }).message).toMatch(
      /temporarily blocked from content creation/,
    );
    fake!.clock.advance(61_000);
    expect((await post('/repos/octocat/hello-world/issues', { title: 'later' })).status).toBe(201);
  });

  it('does not count a 304 answer to a conditional request', async () => {
    await start({ rateLimit: 10 });
    const first = await call('/repos/octocat/hello-world');
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"[0-9a-f]{40}"$/);
    const again = await call('/repos/octocat/hello-world', { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('x-ratelimit-remaining')).toBe('9');
  });
});

describe('GitHub fake: credentials', () => {
  it('refuses a request without a User-Agent before anything else', async () => {
    await start();
    const { request } = await import('undici');
    const res = await request(`${fake!.url}/repos/octocat/hello-world`, { headers: auth });
    expect(res.statusCode).toBe(403);
    expect(await res.body.text()).toMatch(
      /^Request forbidden by administrative rules\. Please make sure your request has a User-Agent header/,
    );
  });

  it('answers a malformed token with 401 Bad credentials, and an anonymous /user with Requires authentication', async () => {
    await start();
    const bad = await fetch(`${fake!.url}/user`, { headers: { authorization: 'token nope' } });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ message: 'Bad credentials', status: '401' });
    const anonymous = await fetch(`${fake!.url}/user`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ message: 'Requires authentication' });
    // Public repositories stay readable without a token, on the 60-an-hour budget.
    const open = await fetch(`${fake!.url}/repos/octocat/hello-world`);
    expect(open.status).toBe(200);
    expect(open.headers.get('x-ratelimit-limit')).toBe('60');
  });

  it('runs the OAuth app flow: form-encoded tokens unless JSON is asked for, errors with status 200', async () => {
    const { url } = await start();
    const info = (await (await fetch(`${url}/_fake`)).json()) as {
      oauthApp: { clientId: string; clientSecret: string };
    };
    const { clientId, clientSecret } = info.oauthApp;
    const authorize = await fetch(
      `${url}/login/oauth/authorize?client_id=${clientId}&redirect_uri=${encodeURIComponent('http://127.0.0.1:1/cb')}&scope=repo%20admin:repo_hook&state=xyz`,
      { redirect: 'manual' },
    );
    expect(authorize.status).toBe(302);
    const location = new URL(authorize.headers.get('location')!);
    expect(location.searchParams.get('state')).toBe('xyz');
    const code = location.searchParams.get('code')!;

    const form = (params: Record<string, string>, accept?: string) =>
      fetch(`${url}/login/oauth/access_token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(accept && { accept }) },
        body: new URLSearchParams(params).toString(),
      });
    const wrong = await form({ client_id: clientId, client_secret: 'nope', code }, 'application/json');
    expect(wrong.status).toBe(200);
    expect(await wrong.json()).toMatchObject({ error: 'incorrect_client_credentials' });

    const token = await form({ client_id: clientId, client_secret: clientSecret, code });
    expect(token.headers.get('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
    const answer = new URLSearchParams(await token.text());
    expect(answer.get('token_type')).toBe('bearer');
    expect(answer.get('scope')).toBe('repo,admin:repo_hook');
    const accessToken = answer.get('access_token')!;
    expect(accessToken).toMatch(/^gho_/);
    const octokit = new Octokit({ auth: accessToken, baseUrl: url, log: quiet });
    expect((await octokit.rest.users.getAuthenticated()).data.login).toBe('octocat');
    // A code is good once.
    const reused = await form({ client_id: clientId, client_secret: clientSecret, code }, 'application/json');
    expect(await reused.json()).toMatchObject({ error: 'bad_verification_code' });
  });
});

describe('GitHub fake: webhooks', () => {
  it('records a receiver slower than the timeout as failed, without retrying', async () => {
    await start({ deliveryTimeoutMs: 200 });
    receiver = await new HookReceiver().start();
    receiver.answer = (_hit, res) => setTimeout(() => res.writeHead(200).end(), 1000);
    const hook = (await (
      await post('/repos/octocat/hello-world/hooks', { config: { url: receiver.url } })
    ).json()) as { id: number };
    await fake!.deliveriesSettled();
    const [delivery] = (await (
      await call(`/repos/octocat/hello-world/hooks/${hook.id}/deliveries`)
    ).json()) as { status: string }[];
    expect(delivery!.status).toBe('timed out');
    expect(receiver.hits).toHaveLength(1);
  });

  it('refuses to redeliver a delivery older than 3 days on the fake’s clock', async () => {
    await start();
    receiver = await new HookReceiver().start();
    const hook = (await (
      await post('/repos/octocat/hello-world/hooks', { config: { url: receiver.url } })
    ).json()) as { id: number };
    await fake!.deliveriesSettled();
    const [delivery] = (await (
      await call(`/repos/octocat/hello-world/hooks/${hook.id}/deliveries`)
    ).json()) as { id: number }[];
    fake!.clock.advance(3 * 24 * 3_600_000 + 1000);
    const res = await call(
      `/repos/octocat/hello-world/hooks/${hook.id}/deliveries/${delivery!.id}/attempts`,
      { method: 'POST' },
    );
    expect(res.status).toBe(422);
    expect(receiver.hits).toHaveLength(1);
  });

  it('filters deliveries by outcome and by redelivery', async () => {
    await start();
    receiver = await new HookReceiver().start();
    let fail = true;
    receiver.answer = (_hit, res) => res.writeHead(fail ? 500 : 200).end();
    const hook = (await (
      await post('/repos/octocat/hello-world/hooks', { config: { url: receiver.url } })
    ).json()) as { id: number };
    await fake!.deliveriesSettled();
    fail = false;
    await call(`/repos/octocat/hello-world/hooks/${hook.id}/pings`, { method: 'POST' });
    await fake!.deliveriesSettled();
    const list = async (q: string) =>
      (
        (await (await call(`/repos/octocat/hello-world/hooks/${hook.id}/deliveries?${q}`)).json()) as {
          status: string;
        }[]
      ).map((d) => d.status);
    expect(await list('status=failure')).toEqual(['Invalid HTTP Response: 500']);
    expect(await list('status=success')).toEqual(['OK']);
    expect(await list('redelivery=true')).toEqual([]);
  });
});
