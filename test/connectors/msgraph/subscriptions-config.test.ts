import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import { createMsGraphSubscriptionsModule } from '../../../src/connectors/msgraph/subscriptions-module.js';
import { ConfigError } from '../../../src/core/config/index.js';
import { silentLogger } from '../../../src/core/logger.js';
import { SqlRateLimitStore } from '../../../src/store/limits/index.js';
import { FakeClock } from '../../../src/testing/index.js';
import { freePort, runCli, tempDir } from '../../helpers/cli.js';
import { dialects } from '../../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../../helpers/engine.js';
import { until } from '../../helpers/fixture-process.js';
import { graphConnection } from './connection.js';
import { type Json, startFake } from './helpers.js';

/**
 * Subscriptions from the config file: an msgraph.messages sync with `options.notify` naming an msgraph
 * source makes the engine keep the folder's subscription (to the source's publicUrl, its secret as
 * clientState), started with the workers, shown at GET /connections/:id/subscriptions, renewed on the
 * engine's clock.
 */
const ADELE = 'adele@contoso.test';
const CLIENT_STATE = 'config-client-state';
const HOUR = 3_600_000;

let fake: RunningMsGraphFake | undefined;
let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  await fake?.close();
  t = undefined;
});

function config(fake: RunningMsGraphFake, port: number, overrides: { source?: Json; notify?: string } = {}) {
  return {
    sources: [
      {
        id: 'graph',
        verify: {
          scheme: 'msgraph',
          secrets: [CLIENT_STATE],
          publicUrl: `http://127.0.0.1:${port}/webhooks/graph`,
        },
        ...overrides.source,
      },
    ],
    connections: [graphConnection(fake) as never],
    vault: { allowInsecureLoopback: true },
    syncs: [
      {
        id: 'inbox',
        connection: 'mail',
        model: 'msgraph.messages',
        options: { mailbox: ADELE, folder: 'inbox', notify: overrides.notify ?? 'graph' },
      },
    ] as never,
  };
}

const atFake = async (): Promise<Json[]> =>
  ((await (await fetch(`${fake!.url}/_fake/subscriptions`)).json()) as Json).subscriptions;

describe('Graph subscriptions from the config file', { timeout: 120_000 }, () => {
  it('are created at engine start, listed by the API, and their notifications run the sync', async () => {
    fake = await startFake({ https: false, allowHttpNotificationUrls: true });
    const port = await freePort();
    t = await openTestEngine(dialects[0]!, config(fake, port));
    await t.app.listen({ host: '127.0.0.1', port });
    const listed = async () =>
      (await t!.app.inject({ method: 'GET', url: '/api/v1/connections/mail/subscriptions' })).json().data;
    // Before the workers start, it says so.
    expect(await listed()).toEqual([
      expect.objectContaining({ syncId: 'inbox', subscriptionId: null, problem: 'not yet created' }),
    ]);

    await t.engine.startWorkers();
    await until('the subscription at the fake', async () => (await atFake()).length === 1);
    const [sub] = await atFake();
    expect(sub).toMatchObject({
      resource: `users/${ADELE}/mailFolders('inbox')/messages`,
      notificationUrl: `http://127.0.0.1:${port}/webhooks/graph`,
    });
    await until('the API to show it', async () => (await listed())[0].subscriptionId === sub.id);
    const created = (await listed())[0];
    expect(created).toEqual({
      connection: 'mail',
      source: 'graph',
      syncId: 'inbox',
      resource: `users/${ADELE}/mailFolders('inbox')/messages`,
      subscriptionId: sub.id,
      expiresAt: expect.any(String),
      renewedAt: expect.any(String),
      problem: null,
    });
    // The fake lists whole seconds.
    expect(Math.abs(Date.parse(created.expiresAt) - Date.parse(sub.expirationDateTime))).toBeLessThan(1000);
    expect(
      (await t.app.inject({ method: 'GET', url: '/api/v1/connections/nope/subscriptions' })).statusCode,
    ).toBe(404);
    // The CLI shows the same, through the running instance's API.
    const cli = await runCli(['connections', 'subscriptions', 'mail', '--url', `http://127.0.0.1:${port}`], {
      cwd: tempDir(),
      timeoutMs: 30_000,
    });
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toMatch(
      new RegExp(
        `^SYNC +SOURCE +SUBSCRIPTION +EXPIRES +RENEWED +PROBLEM *\\ninbox +graph +${sub.id} +${created.expiresAt}`,
      ),
    );

    // Its creation requested the first run; a message delivered later is notified and read by another.
    const inbox = () => fake!.graph.control.snapshot(ADELE, 'inbox').length;
    await until('the first run', async () => (await t!.engine.syncs.status('inbox')).records === inbox());
    fake.graph.control.deliver(ADELE, { message: { subject: 'Notified' } });
    await until('the notified run', async () => (await t!.engine.syncs.status('inbox')).records === inbox());
    const runs = await t.engine.syncs.runs('inbox', { limit: 10 });
    expect(runs.length).toBeGreaterThanOrEqual(2);
    expect(runs.every((r) => r.trigger === 'event')).toBe(true);
  });

  it('renews on the manager’s clock (36 hours on, past half the lifetime)', async () => {
    fake = await startFake({ https: false, allowHttpNotificationUrls: true });
    const port = await freePort();
    t = await openTestEngine(dialects[0]!, config(fake, port));
    await t.app.listen({ host: '127.0.0.1', port });
    // The engine's own module is not started (no workers): this one, on a clock of the test's, keeps them.
    const clock = new FakeClock(fake.clock.now());
    const engine = t.engine;
    const module = await createMsGraphSubscriptionsModule(
      { clock, logger: silentLogger, registry: new Registry() },
      { syncs: engine.config.syncs, sources: engine.config.sources },
      {
        connections: engine.vault.connections,
        clients: engine.connectors,
        limits: new SqlRateLimitStore(t.db),
        on: async () => {},
        requestRun: async () => {},
      },
    );
    await module.start!();
    await until('the creation', () => module.service.subscriptions()[0]!.subscriptionId !== null);
    const created = module.service.subscriptions()[0]!;
    expect(created.renewedAt).toBe(new Date(clock.now()).toISOString());
    const [sub] = await atFake();
    fake.clock.advance(36 * HOUR);
    await clock.advance(36 * HOUR);
    await until('the renewal', () => module.service.subscriptions()[0]!.renewedAt !== created.renewedAt);
    const renewed = module.service.subscriptions()[0]!;
    expect(renewed).toMatchObject({
      subscriptionId: sub.id,
      problem: null,
      renewedAt: new Date(clock.now()).toISOString(),
    });
    expect(Date.parse(renewed.expiresAt!) - Date.parse(created.expiresAt!)).toBe(36 * HOUR);
    expect(Date.parse((await atFake())[0].expirationDateTime)).toBeGreaterThan(
      Date.parse(sub.expirationDateTime),
    );
    await module.stop!();
  });

  it('are none without a sync that notifies: the API lists none, and no Graph module is built', async () => {
    fake = await startFake({ https: false });
    const port = await freePort();
    const scheduled = config(fake, port);
    delete (scheduled.syncs[0] as unknown as { options: Json }).options.notify;
    t = await openTestEngine(dialects[0]!, scheduled);
    await t.app.listen({ host: '127.0.0.1', port });
    expect(t.engine.modules.map((m) => m.name)).not.toContain('msgraph-subscriptions');
    const answer = await t.app.inject({ method: 'GET', url: '/api/v1/connections/mail/subscriptions' });
    expect(answer.json()).toEqual({ data: [] });
    const cli = await runCli(['connections', 'subscriptions', 'mail', '--url', `http://127.0.0.1:${port}`], {
      cwd: tempDir(),
      timeoutMs: 30_000,
    });
    expect(cli.stdout).toBe(
      'mail keeps no subscriptions (no msgraph.messages sync of it sets options.notify)\n',
    );
  });

  it('says what is wrong with a notify that cannot work, at engine start', async () => {
    fake = await startFake({ https: false });
    const problems = async (c: Json) => {
      const err = await openTestEngine(dialects[0]!, c).then(
        async (opened) => {
          await opened.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems;
    };
    expect(await problems(config(fake, 1, { notify: 'nope' }))).toEqual([
      'syncs[0].options.notify: unknown source "nope" (add an msgraph source of that id)',
    ]);
    expect(
      await problems(config(fake, 1, { source: { verify: { scheme: 'msgraph', secrets: [CLIENT_STATE] } } })),
    ).toEqual([
      'syncs[0].options.notify: source "graph" needs verify.publicUrl, the https URL Graph calls (…/webhooks/graph)',
    ]);
    expect(
      await problems(config(fake, 1, { source: { verify: { scheme: 'github', secrets: ['s'] } } })),
    ).toEqual([
      'syncs[0].options.notify: source "graph" verifies scheme "github"; Graph\'s notifications need scheme msgraph',
    ]);
  });
});
