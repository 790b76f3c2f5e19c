import { describe, expect, it } from 'vitest';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import { ErrorCode } from '../../../src/core/errors.js';
import type { Database } from '../../../src/store/database.js';
import type { FakeClock } from '../../../src/testing/index.js';
import type { TestVault } from '../../helpers/vault.js';
import { rejection } from '../../http/helpers.js';
import { type GraphClients, graphClients, graphConnection } from './connection.js';
import { drive, graphSuite } from './graph-suite.js';
import type { Json } from './helpers.js';

let database: Database;
let vault: TestVault;
let fake: RunningMsGraphFake;
let graph: GraphClients;
let clock: FakeClock;
graphSuite((suite) => {
  ({ database, vault, fake, graph, clock } = suite);
});

const stats = async () =>
  ((await (await fetch(`${fake.url}/_fake/stats`)).json()) as Json).counters as Record<string, number>;

describe('a connection with provider: msgraph', () => {
  it('authenticates by client credentials (one token), pages messages, reads bodies as text when asked', async () => {
    fake.graph.control.deliver('adele@contoso.test', { count: 30 });
    const mail = await graph.mail();
    const subjects: string[] = [];
    for await (const m of mail.listMessages('adele@contoso.test', {
      folder: 'inbox',
      pageSize: 7,
      select: ['subject'],
    })) {
      subjects.push(m.subject ?? '');
    }
    expect(subjects).toHaveLength(37);
    expect((await stats())['tokens:issued']).toBe(1);
    await vault.connections.update('mail', {
      metadata: { tenantId: fake.app.tenantId, bodyContentType: 'text' },
    });
    const [first] = fake.graph.control.snapshot('adele@contoso.test', 'inbox');
    const message = await (await graph.mail()).getMessage('adele@contoso.test', first!.id as string);
    expect(message.body).toMatchObject({ contentType: 'text' });
  });

  it('refuses settings it does not know, naming the field', async () => {
    await vault.connections.update('mail', { metadata: { tenantId: 'not a tenant' } });
    const error = await rejection(graph.mail());
    expect(error.code).toBe(ErrorCode.CONFIG_INVALID);
    expect(error.message).toContain('connections.mail.metadata.tenantId: must be the directory (tenant) id');
  });

  it('lists attachments without their bytes and streams the bytes on demand, bounded', async () => {
    const mail = await graph.mail();
    const withFile = fake.graph.control
      .snapshot('adele@contoso.test', 'inbox')
      .find((m) => m.hasAttachments)!;
    const [attachment] = await mail.listAttachments('adele@contoso.test', withFile.id as string);
    expect(attachment).toMatchObject({ name: 'contract.txt', isInline: false });
    expect(attachment).not.toHaveProperty('contentBytes');
    const stream = await mail.downloadAttachment('adele@contoso.test', withFile.id as string, attachment!.id);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('The contract.\n');
    const tooBig = await rejection(
      mail.downloadAttachment('adele@contoso.test', withFile.id as string, attachment!.id, { maxBytes: 5 }),
    );
    expect(tooBig.code).toBe(ErrorCode.RESPONSE_TOO_LARGE);
  });

  it('moves a message (its new id comes back), marks it read, lists folders with their children', async () => {
    const mail = await graph.mail();
    const [first] = fake.graph.control.snapshot('adele@contoso.test', 'inbox');
    const moved = await mail.moveMessage('adele@contoso.test', first!.id as string, 'archive');
    expect(moved.id).not.toBe(first!.id);
    await mail.markRead('adele@contoso.test', moved.id, true);
    expect(fake.graph.control.snapshot('adele@contoso.test', 'archive')[0]).toMatchObject({
      id: moved.id,
      isRead: true,
    });
    const archive = fake.graph.directory.user('adele@contoso.test')!.folder('archive')!;
    fake.graph.directory.user('adele@contoso.test')!.createFolder('2024', archive.id);
    const names: string[] = [];
    for await (const f of mail.folders('adele@contoso.test')) names.push(f.displayName);
    expect(names).toEqual([
      'Inbox',
      'Drafts',
      'Sent Items',
      'Deleted Items',
      'Junk Email',
      'Archive',
      'Outbox',
      '2024',
    ]);
  });

  it('keeps every mailbox to 4 calls at once, without one mailbox holding up another', async () => {
    await fetch(`${fake.url}/_fake/settings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 150 }),
    });
    // Real time here: the fake takes 150 ms a call, which a fake clock's timeouts would not wait for.
    const realTime = graphClients(vault, database);
    const mail = await realTime.mail();
    const adele = fake.graph.control.snapshot('adele@contoso.test', 'inbox');
    const alex = fake.graph.control.snapshot('alex@contoso.test', 'inbox');
    const started = Date.now();
    let alexDone = 0;
    await Promise.all([
      ...adele.concat(adele).map((m) => mail.getMessage('adele@contoso.test', m.id as string)),
      ...alex
        .slice(0, 4)
        .map((m) => mail.getMessage('alex@contoso.test', m.id as string).then(() => (alexDone = Date.now()))),
    ]).finally(() => realTime.clients.close());
    const counters = await stats();
    expect(counters['status:429'] ?? 0).toBe(0);
    expect(counters['status:200']).toBe(14 + 4 + counters['tokens:issued']!);
    // Alex's four went at once, beside Adele's: they did not wait behind her fourteen.
    expect(alexDone - started).toBeLessThan(Date.now() - started - 150);
  });

  it('retries a 429 after its fractional Retry-After, and reads Graph’s error codes', async () => {
    const mail = await graph.mail();
    await fetch(`${fake.url}/_fake/throttle`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/v1.0/users/adele', retryAfter: 1.25, times: 2 }),
    });
    const [first] = fake.graph.control.snapshot('adele@contoso.test', 'inbox');
    const before = clock.now();
    await drive(clock, mail.getMessage('adele@contoso.test', first!.id as string));
    expect(clock.now() - before).toBeGreaterThanOrEqual(2500);
    const missing = await rejection(mail.getMessage('adele@contoso.test', 'AAMkADdoesnotexist='));
    expect(missing).toMatchObject({ status: 404 });
    expect(missing.message).toContain('The specified object was not found in the store.');
    expect((missing as Json).data.upstreamCode).toBe('ErrorItemNotFound');
  });

  it('fails on a wrong client secret, saying the token endpoint refused it', async () => {
    await vault.connections.create(graphConnection(fake, 'wrong', 'not-the-secret'));
    const error = await rejection((await graph.mail('wrong')).getFolder('adele@contoso.test', 'inbox'));
    expect(error.message).toMatch(/invalid_client/);
  });
});
