import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import { fetchToken, graphFetch, type Json, startFake } from './helpers.js';

let fake: RunningMsGraphFake;
let token: string;
beforeAll(async () => {
  fake = await startFake({ https: false });
  token = await fetchToken(fake);
});
beforeEach(async () => {
  await fetch(`${fake.url}/_fake/reset`, { method: 'POST' });
});
afterAll(async () => {
  await fake.close();
});

const call = (path: string, init?: Parameters<typeof graphFetch>[3]) => graphFetch(fake, token, path, init);
const adele = '/v1.0/users/adele@contoso.test';
const send = (body: unknown, headers?: Record<string, string>) =>
  call(`${adele}/sendMail`, { method: 'POST', body, ...(headers && { headers }) });

describe('Graph fake: messages', () => {
  it('says hasAttachments false when every attachment is inline, and lists attachments in a separate call', async () => {
    const inbox = (await call(`${adele}/mailFolders/inbox/messages?$top=50`)).body.value as Json[];
    const withFile = inbox.find((m) => m.subject === 'Contract draft attached');
    const inlineOnly = inbox.find((m) => m.subject === 'Signature with our logo only');
    expect(withFile.hasAttachments).toBe(true);
    expect(inlineOnly.hasAttachments).toBe(false);
    expect(withFile.attachments).toBeUndefined();
    const listed = await call(`${adele}/messages/${withFile.id}/attachments`);
    expect(listed.body.value[0]).toMatchObject({
      '@odata.type': '#microsoft.graph.fileAttachment',
      name: 'contract.txt',
      isInline: false,
      contentBytes: Buffer.from('The contract.\n').toString('base64'),
    });
    const raw = await fetch(
      `${fake.url}${adele}/messages/${withFile.id}/attachments/${listed.body.value[0].id}/$value`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(raw.headers.get('content-type')).toBe('text/plain');
    expect(await raw.text()).toBe('The contract.\n');
    const inline = await call(`${adele}/messages/${inlineOnly.id}/attachments`);
    expect(inline.body.value[0]).toMatchObject({ isInline: true, contentId: 'logo@northwind' });
  });

  it('leaves conversationId out of some messages', async () => {
    fake.graph.control.deliver('adele@contoso.test', { count: 14 });
    const page = (await call(`${adele}/messages?$top=100`)).body.value as Json[];
    const without = page.filter((m) => !('conversationId' in m));
    expect(without.length).toBeGreaterThan(0);
    expect(without.length).toBeLessThan(page.length);
  });

  it('switches bodies to text with Prefer: outlook.body-content-type, and says so', async () => {
    const html = await call(`${adele}/messages?$top=1&$select=body`);
    expect(html.body.value[0].body.contentType).toBe('html');
    const text = await call(`${adele}/messages?$top=1&$select=body`, {
      headers: { prefer: 'outlook.body-content-type="text"' },
    });
    expect(text.body.value[0].body).toMatchObject({ contentType: 'text' });
    expect(text.body.value[0].body.content).not.toContain('<');
    expect(text.headers.get('preference-applied')).toBe('outlook.body-content-type="text"');
  });

  it('pages with $top and a nextLink carrying $skip; refuses $top over 1,000', async () => {
    fake.graph.control.deliver('adele@contoso.test', { count: 20 });
    const first = await call(`${adele}/messages?$top=7&$select=subject`);
    expect(first.body.value).toHaveLength(7);
    expect(first.body['@odata.nextLink']).toContain('$skip=7');
    const tooBig = await call(`${adele}/messages?$top=1001`);
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.error.message).toContain("The limit of '1000' for Top query has been exceeded");
    const twice = await call(`${adele}/messages?$top=1&$top=2`);
    expect(twice.body.error.message).toContain('specified more than once');
  });

  it('moves a message: 201 with a new id; the old one is gone', async () => {
    const [first] = fake.graph.control.snapshot('adele@contoso.test', 'inbox');
    const moved = await call(`${adele}/messages/${first!.id}/move`, {
      method: 'POST',
      body: { destinationId: 'archive' },
    });
    expect(moved.status).toBe(201);
    expect(moved.body.id).not.toBe(first!.id);
    expect((await call(`${adele}/messages/${first!.id}`)).body.error.code).toBe('ErrorItemNotFound');
    expect((await call(`${adele}/mailFolders/archive/messages/${moved.body.id}`)).status).toBe(200);
  });

  it('marks read by PATCH, refuses to rewrite a received message’s subject', async () => {
    const [first] = fake.graph.control.snapshot('adele@contoso.test', 'inbox');
    const read = await call(`${adele}/messages/${first!.id}`, { method: 'PATCH', body: { isRead: true } });
    expect(read.body.isRead).toBe(true);
    const subject = await call(`${adele}/messages/${first!.id}`, { method: 'PATCH', body: { subject: 'x' } });
    expect(subject.status).toBe(400);
    expect(subject.body.error.code).toBe('ErrorInvalidPropertyUpdateSentMessage');
  });

  it('answers paths and options it does not know the way Graph does', async () => {
    const segment = await call(`${adele}/mesages`);
    expect(segment.status).toBe(400);
    expect(segment.body.error.message).toBe("Resource not found for the segment 'mesages'.");
    const property = await call(`${adele}/messages?$select=subjct`);
    expect(property.body.error).toMatchObject({
      code: 'RequestBroker--ParseUri',
      message: "Could not find a property named 'subjct' on type 'microsoft.graph.message'.",
    });
    expect((await call('/v1.0/me/messages')).body.error.message).toBe(
      '/me request is only valid with delegated authentication flow.',
    );
    expect((await call('/v1.0/users/nobody@contoso.test/messages')).body.error.code).toBe('ErrorInvalidUser');
    expect((await call(`${adele}/messages/short`)).body.error.code).toBe('ErrorInvalidIdMalformed');
    const cased = await call('/v1.0/Users/adele@contoso.test/MailFolders/Inbox/Messages?$top=1');
    expect(cased.status).toBe(200);
    const ids = await call(`${adele}/messages?$top=1`, { headers: { 'client-request-id': 'abc-123' } });
    expect(ids.headers.get('client-request-id')).toBe('abc-123');
    expect(ids.headers.get('request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('pages mail folders 10 at a time, and refuses a duplicate folder name with 409', async () => {
    for (let i = 0; i < 4; i++) {
      expect(
        (await call(`${adele}/mailFolders`, { method: 'POST', body: { displayName: `Project ${i}` } }))
          .status,
      ).toBe(201);
    }
    const first = await call(`${adele}/mailFolders`);
    expect(first.body.value).toHaveLength(10);
    expect(first.body['@odata.nextLink']).toContain('$skip=10');
    const rest = await call(first.body['@odata.nextLink']);
    expect(rest.body.value).toHaveLength(1);
    const dup = await call(`${adele}/mailFolders`, { method: 'POST', body: { displayName: 'project 0' } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('ErrorFolderExists');
  });
});

describe('Graph fake: sendMail', () => {
  const message = {
    subject: 'Hello',
    body: { contentType: 'Text', content: 'Hi Alex' },
    toRecipients: [
      { emailAddress: { address: 'alex@contoso.test' } },
      { emailAddress: { address: 'someone@fabrikam.test' } },
    ],
  };

  it('keeps custom internet headers and extended properties on the sent copy, findable by $filter', async () => {
    const property = 'String {66f5a359-4659-4830-9070-00047ec6ac6e} Name PatchbayIdempotencyKey';
    const sent = await send({
      message: {
        ...message,
        internetMessageHeaders: [{ name: 'X-Patchbay-Idempotency-Key', value: 'k-1' }],
        singleValueExtendedProperties: [{ id: property, value: 'k-1' }],
      },
    });
    expect(sent.status).toBe(202);
    expect(sent.body).toBeUndefined();
    const filter = encodeURIComponent(
      `singleValueExtendedProperties/any(ep: ep/id eq '${property}' and ep/value eq 'k-1')`,
    );
    const found = await call(
      `${adele}/mailFolders/sentitems/messages?$filter=${filter}&$select=subject,internetMessageHeaders`,
    );
    expect(found.body.value).toHaveLength(1);
    expect(found.body.value[0].internetMessageHeaders).toEqual([
      { name: 'X-Patchbay-Idempotency-Key', value: 'k-1' },
    ]);
    const other = encodeURIComponent(
      `singleValueExtendedProperties/any(ep: ep/id eq '${property}' and ep/value eq 'k-2')`,
    );
    expect((await call(`${adele}/mailFolders/sentitems/messages?$filter=${other}`)).body.value).toHaveLength(
      0,
    );
    // The recipient has the header, not the MAPI property.
    const alex = fake.graph.control.snapshot('alex@contoso.test', 'inbox').find((m) => m.subject === 'Hello');
    expect(alex).toBeDefined();
  });

  it('does not keep a copy with saveToSentItems: false', async () => {
    await send({ message, saveToSentItems: false });
    expect(fake.graph.control.snapshot('adele@contoso.test', 'sentitems')).toHaveLength(0);
  });

  it('refuses a from the mailbox may not send as: 403 ErrorSendAsDenied', async () => {
    const denied = await send({
      message: { ...message, from: { emailAddress: { address: 'ceo@contoso.test' } } },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe('ErrorSendAsDenied');
  });

  it('refuses no recipients, unresolvable ones, and non-x- headers', async () => {
    expect((await send({ message: { subject: 'x' } })).body.error.code).toBe('ErrorInvalidRecipients');
    const bad = await send({
      message: { ...message, toRecipients: [{ emailAddress: { address: 'not an address' } }] },
    });
    expect(bad.body.error.message).toContain("Recipient 'not an address' isn't resolved");
    const header = await send({
      message: { ...message, internetMessageHeaders: [{ name: 'Priority', value: '1' }] },
    });
    expect(header.body.error).toMatchObject({ code: 'InvalidInternetMessageHeader' });
    expect((await send({})).body.error.code).toBe('ErrorInvalidParameter');
  });

  it('sends MIME (base64 in text/plain), and refuses bad base64', async () => {
    const mime =
      'From: adele@contoso.test\r\nTo: alex@contoso.test\r\nSubject: By MIME\r\nX-Trace: 7\r\n\r\nPlain body\r\n';
    const ok = await call(`${adele}/sendMail`, {
      method: 'POST',
      body: Buffer.from(mime).toString('base64'),
      headers: { 'content-type': 'text/plain' },
    });
    expect(ok.status).toBe(202);
    const got = fake.graph.control
      .snapshot('alex@contoso.test', 'inbox')
      .find((m) => m.subject === 'By MIME');
    expect(got?.body).toEqual({ contentType: 'text', content: 'Plain body' });
    const bad = await call(`${adele}/sendMail`, {
      method: 'POST',
      body: '%%%not base64',
      headers: { 'content-type': 'text/plain' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('ErrorMimeContentInvalidBase64String');
  });
});
