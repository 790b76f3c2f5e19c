import {
  BatchRequestContent,
  BatchResponseContent,
  PageIterator,
  ResponseType,
  RetryHandlerOptions,
} from '@microsoft/microsoft-graph-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import { graphClient, type Json, startFake } from './helpers.js';

let fake: RunningMsGraphFake;
beforeEach(async () => {
  fake = await startFake();
});
afterEach(async () => {
  await fake.close();
});

const adele = () => fake.graph.directory.user('adele@contoso.test')!;

describe('the official Graph SDK against the fake', () => {
  it('authenticates through customHosts over https and reads the users', async () => {
    const { client, tokens } = graphClient(fake);
    const users = await client.api('/users').get();
    expect(users.value.map((u: { mail: string }) => u.mail)).toEqual([
      'adele@contoso.test',
      'alex@contoso.test',
      'megan@contoso.test',
    ]);
    await client.api('/users/alex@contoso.test').get();
    expect(tokens()).toBe(1);
  });

  it('pages through a folder with PageIterator, following nextLinks to the last page', async () => {
    fake.graph.control.deliver('adele@contoso.test', { count: 43 });
    const { client } = graphClient(fake);
    const first = await client
      .api(`/users/${adele().user.id}/mailFolders/inbox/messages`)
      .top(10)
      .select('id,subject')
      .get();
    expect(first['@odata.nextLink']).toMatch(new RegExp(`^${fake.httpsUrl}/v1.0/`));
    const ids: string[] = [];
    const iterator = new PageIterator(client, first, (message: { id: string }) => {
      ids.push(message.id);
      return true;
    });
    await iterator.iterate();
    expect(ids).toHaveLength(50); // 5 + 2 seeded, 43 delivered
    expect(new Set(ids).size).toBe(50);
  });

  it('runs delta rounds: the whole folder, then only what changed, with removals', async () => {
    const { client } = graphClient(fake);
    const path = `/users/${adele().user.id}/mailFolders('inbox')/messages/delta`;
    const seen = new Map<string, Record<string, unknown>>();
    const round = async (start: string) => {
      let page = await client.api(start).header('Prefer', 'odata.maxpagesize=3').get();
      const items: Record<string, unknown>[] = [...page.value];
      while (page['@odata.nextLink']) {
        expect(page['@odata.deltaLink']).toBeUndefined();
        page = await client.api(page['@odata.nextLink']).header('Prefer', 'odata.maxpagesize=3').get();
        items.push(...page.value);
      }
      for (const item of items) {
        if (item['@removed']) seen.delete(item.id as string);
        else seen.set(item.id as string, { ...seen.get(item.id as string), ...item });
      }
      return { items, deltaLink: page['@odata.deltaLink'] as string };
    };
    const initial = await round(`${path}?$select=subject,isRead`);
    expect(initial.items).toHaveLength(7);
    expect(seen.size).toBe(7);
    const [first, second] = [...seen.keys()];
    fake.graph.control.change(first!, { isRead: true });
    fake.graph.control.remove(second!);
    fake.graph.control.deliver('adele@contoso.test', { message: { subject: 'New one' } });
    const next = await round(initial.deltaLink);
    expect(next.items).toHaveLength(3);
    expect(seen.size).toBe(7);
    expect(seen.get(first!)).toMatchObject({ isRead: true });
    expect([...seen.values()].map((m) => m.subject)).toContain('New one');
    const idle = await round(next.deltaLink);
    expect(idle.items).toHaveLength(0);
  });

  it('sends mail: 202, then a copy in Sent Items and in the local recipient’s Inbox', async () => {
    const { client } = graphClient(fake);
    const response: Response = await client
      .api('/users/adele@contoso.test/sendMail')
      .responseType(ResponseType.RAW)
      .post({
        message: {
          subject: 'Lunch?',
          body: { contentType: 'Text', content: 'At noon.' },
          toRecipients: [{ emailAddress: { address: 'alex@contoso.test' } }],
        },
      });
    expect(response.status).toBe(202);
    expect(await response.text()).toBe('');
    const sent = await client.api('/users/adele@contoso.test/mailFolders/sentitems/messages').get();
    expect(sent.value.map((m: { subject: string }) => m.subject)).toEqual(['Lunch?']);
    const inbox = await client
      .api('/users/alex@contoso.test/mailFolders/inbox/messages')
      .filter("subject eq 'Lunch?'")
      .header('Prefer', 'outlook.body-content-type="text"')
      .get();
    expect(inbox.value).toHaveLength(1);
    expect(inbox.value[0]).toMatchObject({
      isRead: false,
      body: { contentType: 'text', content: 'At noon.' },
    });
  });

  it('answers a $batch built with BatchRequestContent, matched back by id', async () => {
    const { client } = graphClient(fake);
    const [a, b] = fake.graph.control.snapshot('adele@contoso.test', 'inbox');
    const base = `${fake.httpsUrl}/v1.0/users/adele@contoso.test/messages`;
    const batch = new BatchRequestContent([
      { id: '1', request: new Request(`${base}/${a!.id}?$select=subject`) },
      { id: '2', request: new Request(`${base}/${b!.id}?$select=subject`), dependsOn: ['1'] },
      {
        id: '3',
        request: new Request(`${base}/${a!.id}`, {
          method: 'PATCH',
          body: JSON.stringify({ isRead: true }),
          headers: { 'content-type': 'application/json' },
        }),
        dependsOn: ['2'],
      },
    ]);
    const raw = await client.api('/$batch').post(await batch.getContent());
    const responses = new BatchResponseContent(raw);
    expect(((await responses.getResponseById('1').json()) as Json).subject).toBe(a!.subject);
    expect(((await responses.getResponseById('2').json()) as Json).subject).toBe(b!.subject);
    expect(responses.getResponseById('3').status).toBe(200);
    expect(
      fake.graph.control.snapshot('adele@contoso.test', 'inbox').find((m) => m.id === a!.id)?.isRead,
    ).toBe(true);
  });

  it('retries a 429 after the fake’s fractional Retry-After, with its RetryHandler', async () => {
    const { client } = graphClient(fake);
    await client.api('/users').get(); // the token is fetched before the faults go in
    await fetch(`${fake.url}/_fake/throttle`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ path: '/v1.0/users/adele', retryAfter: 0.35, times: 2 }),
    });
    const started = Date.now();
    const me = await client
      .api('/users/adele@contoso.test')
      .middlewareOptions([new RetryHandlerOptions(3, 3)])
      .get();
    const elapsed = Date.now() - started;
    expect(me.mail).toBe('adele@contoso.test');
    // Two waits of 0.35 s each: the SDK honoured the header, not its 3 s default delay.
    expect(elapsed).toBeGreaterThanOrEqual(690);
    expect(elapsed).toBeLessThan(2900);
    const stats = (await (await fetch(`${fake.url}/_fake/stats`)).json()) as {
      counters: Record<string, number>;
    };
    expect(stats.counters['status:429']).toBe(2);
  });
});
