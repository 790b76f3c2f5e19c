import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGitHubFake, startGitHubFake } from '../../../src/connectors/github/fake/index.js';
import { githubDefinition } from '../../../src/connectors/github/index.js';
import { dialects } from '../../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../../helpers/engine.js';

const TOKEN = `ghp_${'f'.repeat(36)}`;
const SECRET = 'hook-secret-0001';
let t: TestEngine;
let fake: RunningGitHubFake;
let base: string;

beforeAll(async () => {
  t = await openTestEngine(dialects[0]!, {
    sources: [{ id: 'gh', verify: { scheme: githubDefinition.webhook!.scheme, secrets: [SECRET] } }],
  });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  fake = await startGitHubFake();
});
afterAll(async () => {
  await fake?.close();
  await t?.close();
});

const api = async (method: string, path: string, body?: unknown) =>
  (
    await fetch(`${fake.url}${path}`, {
      method,
      headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    })
  ).json() as Promise<Record<string, unknown> & { id: number }>;
const events = async () =>
  (await t.engine.events.list({ source: 'gh', limit: 100 })).filter((e) => e.source === 'gh');

describe('GitHub webhooks into a Patchbay source with the github preset', () => {
  it('verifies GitHub’s form-encoded, signed deliveries, and stores a redelivery once', async () => {
    // A hook made the way GitHub defaults it through the API: form-encoded.
    const hook = await api('POST', '/repos/octocat/hello-world/hooks', {
      config: { url: `${base}/webhooks/gh`, secret: SECRET },
      events: ['issues'],
    });
    await api('POST', '/repos/octocat/hello-world/issues', { title: 'Webhook me' });
    await fake.deliveriesSettled();
    expect((await events()).map((e) => e.type).sort()).toEqual(['issues.opened', 'ping']);

    const deliveries = (await (
      await fetch(`${fake.url}/repos/octocat/hello-world/hooks/${hook.id}/deliveries`, {
        headers: { authorization: `token ${TOKEN}` },
      })
    ).json()) as { id: number; status: string }[];
    expect(deliveries.every((d) => d.status === 'OK')).toBe(true);
    await fetch(
      `${fake.url}/repos/octocat/hello-world/hooks/${hook.id}/deliveries/${deliveries[0]!.id}/attempts`,
      {
        method: 'POST',
        headers: { authorization: `token ${TOKEN}` },
      },
    );
    await fake.deliveriesSettled();
    // Same X-GitHub-Delivery: answered 2xx, not stored again.
    expect(await events()).toHaveLength(2);
  });
});
