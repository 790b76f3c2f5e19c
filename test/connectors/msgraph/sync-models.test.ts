import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import {
  messagesOptionsSchema,
  msgraphMailFolders,
  msgraphMessages,
} from '../../../src/connectors/msgraph/sync-models.js';
import { defineSync } from '../../../src/sync/index.js';
import { dialects } from '../../helpers/databases.js';
import { openTestVault } from '../../helpers/vault.js';
import { type SyncHarness, syncHarness } from '../../sync/helpers.js';
import { type GraphClients, graphClients, graphConnection } from './connection.js';
import { type Json, startFake } from './helpers.js';

const ADELE = 'adele@contoso.test';
let fake: RunningMsGraphFake;
let graph: GraphClients;
let h: SyncHarness;

beforeEach(async () => {
  fake = await startFake({ https: false, deltaPageSize: 50 });
  h = await syncHarness(dialects[0]!, { clients: {} });
  const vault = await openTestVault(h.database);
  await vault.connections.create(graphConnection(fake));
  graph = graphClients(vault, h.database);
  const client = await graph.clients.client('mail');
  h.ports.clients = () => client;
});
afterEach(async () => {
  await graph?.clients.close();
  await h?.cleanup();
  await fake?.close();
});

const messagesOf = (folder: string, options: Record<string, unknown> = {}) =>
  defineSync({
    id: `mail-${folder}`,
    connection: 'mail',
    model: msgraphMessages.name,
    ...msgraphMessages.define(messagesOptionsSchema.parse({ mailbox: ADELE, folder, ...options }) as never),
  });

async function stored(syncId: string): Promise<Map<string, Json>> {
  const rows = await h.stores.records.list(syncId, { limit: 100_000 });
  return new Map(rows.map((r) => [r.id, JSON.parse(r.data)]));
}

/** The fake's folder as the model would store it: id → the fields compared. */
function truth(folder: string): Map<string, Json> {
  return new Map(
    fake.graph.control
      .snapshot(ADELE, folder)
      .map((m: Json) => [
        m.id,
        { subject: m.subject, isRead: m.isRead, conversationId: m.conversationId ?? null },
      ]),
  );
}

function comparable(records: Map<string, Json>): Map<string, Json> {
  return new Map(
    [...records].map(([id, r]) => [
      id,
      { subject: r.subject, isRead: r.isRead, conversationId: r.conversationId },
    ]),
  );
}

const requests = async () =>
  ((await (await fetch(`${fake.url}/_fake/stats`)).json()) as Json).counters.requests as number;

describe('msgraph.messages', () => {
  it('reads a folder through an initial round, attachments listed, conversationId null when missing', async () => {
    fake.graph.control.deliver(ADELE, { count: 120 });
    const sync = messagesOf('inbox');
    await h.stores.state.ensure([sync.id], Date.now());
    const outcome = await h.runner.run(sync, { trigger: 'manual' });
    const records = await stored(sync.id);
    expect(outcome).toMatchObject({ status: 'succeeded', counts: { created: records.size } });
    expect(comparable(records)).toEqual(truth('inbox'));
    const values = [...records.values()];
    const withFile = values.find((r) => r.attachments?.some((a: Json) => !a.isInline));
    expect(withFile).toMatchObject({ hasAttachments: true });
    expect(withFile.attachments[0]).toEqual({
      id: expect.any(String),
      name: expect.any(String),
      contentType: expect.any(String),
      size: expect.any(Number),
      isInline: false,
    });
    expect(JSON.stringify(values)).not.toContain('contentBytes');
    const inlineOnly = values.find(
      (r) => r.attachments?.length > 0 && r.attachments.every((a: Json) => a.isInline),
    );
    expect(inlineOnly).toMatchObject({ hasAttachments: false });
    expect(values.some((r) => r.conversationId === null)).toBe(true);
    const state = await h.stores.state.require(sync.id);
    expect((state.checkpoint as Json).link).toMatch(/\$deltatoken=/);
  });

  it('then reads only changes: new, changed (read again whole), moved out and deleted as tombstones', async () => {
    const inbox = messagesOf('inbox');
    const archive = messagesOf('archive');
    await h.stores.state.ensure([inbox.id, archive.id], Date.now());
    fake.graph.control.deliver(ADELE, { count: 60 });
    await h.runner.run(inbox, { trigger: 'manual' });
    await h.runner.run(archive, { trigger: 'manual' });
    const [a, b, c, d] = fake.graph.control.snapshot(ADELE, 'inbox') as Json[];
    const [arrived] = fake.graph.control.deliver(ADELE, { message: { subject: 'Arrived' } });
    fake.graph.control.change(a.id, { subject: 'Renamed' });
    fake.graph.control.change(b.id, { isRead: true });
    const moved = fake.graph.control.move(c.id, 'archive');
    fake.graph.control.remove(d.id);

    const before = await requests();
    const outcome = await h.runner.run(inbox, { trigger: 'schedule' });
    expect(outcome).toMatchObject({ status: 'succeeded', counts: { created: 1, updated: 2, deleted: 2 } });
    // The round's pages (an empty first one included) and a whole read of each partly reported message.
    expect((await requests()) - before).toBeLessThan(6);
    const records = await stored(inbox.id);
    expect(comparable(records)).toEqual(truth('inbox'));
    expect(records.get(a.id)).toMatchObject({ subject: 'Renamed', receivedAt: a.receivedDateTime });
    expect(records.get(b.id)).toMatchObject({ isRead: true, subject: b.subject });
    expect(records.has(arrived!.id)).toBe(true);
    expect(records.has(c.id) || records.has(d.id)).toBe(false);

    await h.runner.run(archive, { trigger: 'schedule' });
    expect((await stored(archive.id)).get(moved.id)).toMatchObject({ subject: c.subject });
    const deletes = (await h.events(inbox.id)).filter((e) => e.type === `${inbox.id}.record.deleted`);
    expect(deletes.map((e) => e.body.id).sort()).toEqual([c.id, d.id].sort());
  });

  it('a read resumed mid-round goes on to a round of its own: it sees what changed before it began', async () => {
    const model = msgraphMessages.define(
      messagesOptionsSchema.parse({ mailbox: ADELE, folder: 'inbox', pageSize: 5 }),
    );
    const client = await graph.clients.client('mail');
    const ctx = (checkpoint: unknown) =>
      ({ http: client, signal: new AbortController().signal, checkpoint, mode: 'incremental' }) as never;
    const first = model.fetch(ctx(undefined))[Symbol.asyncIterator]();
    const page = (await first.next()).value as Json;
    expect(page.checkpoint).toMatchObject({ link: expect.stringContaining('$skiptoken='), done: false });
    await first.return?.(undefined);
    // The process died here; mail arrived before the next run began.
    const [late] = fake.graph.control.deliver(ADELE, { message: { subject: 'Arrived while down' } });
    const ids: string[] = [];
    let last: Json;
    for await (const p of model.fetch(ctx(page.checkpoint))) {
      ids.push(...(p.records as Json[]).map((m) => m.id));
      last = p;
    }
    expect(ids).toContain(late!.id);
    expect(last.checkpoint).toMatchObject({ link: expect.stringContaining('$deltatoken='), done: true });
  });

  it('answers 410 SyncStateNotFound with a full read whose end deletes what the lost state knew', async () => {
    const sync = { ...messagesOf('inbox'), deletes: { maxShare: 1, floor: 10 } };
    await h.stores.state.ensure([sync.id], Date.now());
    fake.graph.control.deliver(ADELE, { count: 80 });
    await h.runner.run(sync, { trigger: 'manual' });
    const gone = (fake.graph.control.snapshot(ADELE, 'inbox') as Json[]).slice(0, 5);
    for (const m of gone) fake.graph.control.remove(m.id);
    fake.graph.control.change((fake.graph.control.snapshot(ADELE, 'inbox') as Json[])[0].id, {
      subject: 'Kept',
    });
    expect(fake.graph.control.expireDelta({ user: ADELE })).toBeGreaterThan(0);

    const outcome = await h.runner.run(sync, { trigger: 'schedule' });
    expect(outcome).toMatchObject({ status: 'succeeded', mode: 'incremental', counts: { deleted: 5 } });
    const run = (await h.stores.runs.list(sync.id, { limit: 1 }))[0]!;
    expect(run.report).toMatchObject({ cursorRestarts: 1 });
    expect(comparable(await stored(sync.id))).toEqual(truth('inbox'));
    // The full read ended with a fresh deltaLink: the next run is incremental again and reads nothing.
    const next = await h.runner.run(sync, { trigger: 'schedule' });
    expect(next).toMatchObject({
      status: 'succeeded',
      mode: 'incremental',
      counts: { created: 0, deleted: 0 },
    });
  });

  it('also answers a 410 that carries a Location with an empty $deltatoken', async () => {
    await fetch(`${fake.url}/_fake/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ deltaLocationOn410: true }),
    });
    const sync = messagesOf('inbox');
    await h.stores.state.ensure([sync.id], Date.now());
    await h.runner.run(sync, { trigger: 'manual' });
    fake.graph.control.expireDelta();
    fake.graph.control.deliver(ADELE, { message: { subject: 'After the expiry' } });
    expect(await h.runner.run(sync, { trigger: 'schedule' })).toMatchObject({ status: 'succeeded' });
    expect(comparable(await stored(sync.id))).toEqual(truth('inbox'));
  });

  it('reads bodies as text when asked; a bad option names the field', async () => {
    const sync = messagesOf('inbox', { body: true, bodyType: 'text' });
    await h.stores.state.ensure([sync.id], Date.now());
    await h.runner.run(sync, { trigger: 'manual' });
    const first = [...(await stored(sync.id)).values()][0];
    expect(first.body).toMatchObject({ contentType: 'text' });
    expect(first.body.content).not.toContain('<');
    const bad = messagesOptionsSchema.safeParse({ mailbox: ADELE, pageSize: 5000 });
    expect(bad.success).toBe(false);
    expect(JSON.stringify(bad.error)).toContain('at most 1,000');
  });
});

describe('msgraph.mailFolders', () => {
  it('reads every folder of the mailbox as a full read', async () => {
    const sync = defineSync({
      id: 'folders',
      connection: 'mail',
      model: msgraphMailFolders.name,
      ...msgraphMailFolders.define({ mailbox: ADELE }),
    });
    await h.stores.state.ensure([sync.id], Date.now());
    const outcome = await h.runner.run(sync, { trigger: 'manual' });
    expect(outcome).toMatchObject({ status: 'succeeded', mode: 'full' });
    const records = [...(await stored(sync.id)).values()];
    const names = records.map((r) => r.displayName);
    expect(names).toEqual(expect.arrayContaining(['Inbox', 'Sent Items', 'Deleted Items']));
    expect(records.find((r) => r.displayName === 'Inbox')).toMatchObject({
      totalItemCount: expect.any(Number),
      isHidden: false,
    });
  });
});
