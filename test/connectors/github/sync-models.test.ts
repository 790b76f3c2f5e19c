import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningGitHubFake, startGitHubFake } from '../../../src/connectors/github/fake/index.js';
import { githubIssues, githubPulls } from '../../../src/connectors/github/index.js';
import { defineSync } from '../../../src/sync/index.js';
import { dialects } from '../../helpers/databases.js';
import { type SyncHarness, syncHarness } from '../../sync/helpers.js';
import { type ConnectorSetup, connectorSetup } from './connector-setup.js';

const TOKEN = `ghp_${'e'.repeat(36)}`;
let fake: RunningGitHubFake;
let setup: ConnectorSetup;
let h: SyncHarness;

beforeEach(async () => {
  fake = await startGitHubFake();
  setup = await connectorSetup();
  await setup.vault.connections.create({
    id: 'gh',
    provider: 'github',
    baseUrl: fake.url,
    auth: { scheme: 'bearer', token: TOKEN },
  });
  h = await syncHarness(dialects[0]!, { clients: { gh: await setup.clients.client('gh') } });
});
afterEach(async () => {
  await h?.cleanup();
  await setup?.close();
  await fake?.close();
});

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${fake.url}${path}`, {
    method,
    headers: { authorization: `token ${TOKEN}`, 'content-type': 'application/json' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
const seed = (body: unknown) => api('POST', '/_fake/seed', body);
const requests = async () =>
  ((await (await fetch(`${fake.url}/_fake/stats`)).json()) as { counters: Record<string, number> }).counters
    .requests ?? 0;
async function stored(syncId: string) {
  const rows = await h.stores.records.list(syncId, { limit: 100_000 });
  return new Map(rows.map((r) => [r.id, JSON.parse(r.data) as Record<string, unknown>]));
}

describe('github.issues', () => {
  const sync = defineSync({
    id: 'issues',
    connection: 'gh',
    model: githubIssues.name,
    ...githubIssues.define({ owner: 'octocat', repo: 'w' }),
  });
  beforeEach(async () => h.stores.state.ensure([sync.id], Date.now()));

  it('reads every issue of the repository, leaving pull requests out', async () => {
    await seed({ repos: [{ name: 'w', issues: 250, pulls: 12 }] });
    const outcome = await h.runner.run(sync, { trigger: 'manual' });
    expect(outcome).toMatchObject({ status: 'succeeded', counts: { created: 250 } });
    const records = await stored('issues');
    expect(records.size).toBe(250);
    expect([...records.values()].every((r) => typeof r.number === 'number' && r.state === 'open')).toBe(true);
  });

  it('picks up only what changed since the last run, by since', async () => {
    await seed({ repos: [{ name: 'w', issues: 250 }] });
    await h.runner.run(sync, { trigger: 'manual' });
    fake.clock.advance(5_000);
    await api('PATCH', '/repos/octocat/w/issues/3', { title: 'Renamed' });
    await api('PATCH', '/repos/octocat/w/issues/7', { state: 'closed' });
    await api('POST', '/repos/octocat/w/issues', { title: 'Brand new' });
    const before = await requests();
    const outcome = await h.runner.run(sync, { trigger: 'schedule' });
    expect(outcome).toMatchObject({ status: 'succeeded', counts: { created: 1, updated: 2, deleted: 0 } });
    // One page since the watermark, not the 3 pages of the whole repository.
    expect((await requests()) - before).toBe(1);
    const records = [...(await stored('issues')).values()];
    expect(records.find((r) => r.number === 3)?.title).toBe('Renamed');
    expect(records.find((r) => r.number === 7)).toMatchObject({ state: 'closed', stateReason: 'completed' });
  });

  it('steps through pages when more issues than a page share one second', async () => {
    await seed({
      repos: [
        {
          name: 'w',
          issues: Array.from({ length: 230 }, (_, i) => ({ title: `same ${i}`, updatedAgoMs: 1000 })),
        },
      ],
    });
    const outcome = await h.runner.run(sync, { trigger: 'manual' });
    expect(outcome).toMatchObject({ status: 'succeeded', counts: { created: 230 } });
    expect((await stored('issues')).size).toBe(230);
  });
});

describe('github.pulls', () => {
  const sync = defineSync({
    id: 'pulls',
    connection: 'gh',
    model: githubPulls.name,
    ...githubPulls.define({ owner: 'octocat', repo: 'w' }),
  });
  beforeEach(async () => h.stores.state.ensure([sync.id], Date.now()));

  it('reads every pull request, then only the newest down to the watermark', async () => {
    await seed({ repos: [{ name: 'w', issues: 5, pulls: 140 }] });
    expect(await h.runner.run(sync, { trigger: 'manual' })).toMatchObject({
      status: 'succeeded',
      counts: { created: 140 },
    });
    fake.clock.advance(5_000);
    await api('PATCH', '/repos/octocat/w/pulls/20', { state: 'closed' });
    await api('POST', '/repos/octocat/w/pulls', { title: 'New work', head: 'new-work', base: 'main' });
    const before = await requests();
    const outcome = await h.runner.run(sync, { trigger: 'schedule' });
    expect(outcome).toMatchObject({ status: 'succeeded', counts: { created: 1, updated: 1 } });
    expect((await requests()) - before).toBe(1);
    const records = [...(await stored('pulls')).values()];
    expect(records).toHaveLength(141);
    expect(records.find((r) => r.number === 20)).toMatchObject({ state: 'closed', base: 'main' });
  });
});
