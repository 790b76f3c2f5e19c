import { badRequest } from './graph-errors.js';
import type { InternetMessageHeader, ItemBody, Recipient } from './mail-types.js';

export interface ParsedMime {
  subject: string;
  from: Recipient | null;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  body: ItemBody;
  headers: InternetMessageHeader[];
}

/**
 * A sendMail body in MIME format (user-sendmail.md): `Content-Type: text/plain`, the RFC 5322 message
 * base64-encoded. Enough of MIME for a fake: the address headers, `Subject`, custom `X-` headers, and the
 * first text part of the body. Bad base64 is Graph's 400 `ErrorMimeContentInvalidBase64String`.
 */
export function parseMimeSend(payload: Buffer): ParsedMime {
  const text = payload.toString('ascii').trim();
  if (text === '' || !/^[A-Za-z0-9+/\r\n]+={0,2}$/.test(text) || text.replace(/\s/g, '').length % 4 !== 0) {
    throw badRequest('Invalid base64 string for MIME content.', 'ErrorMimeContentInvalidBase64String');
  }
  const mime = Buffer.from(text, 'base64').toString('utf8');
  const split = mime.search(/\r?\n\r?\n/);
  const head = split < 0 ? mime : mime.slice(0, split);
  const rest = split < 0 ? '' : mime.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers = unfold(head);
  const get = (name: string) => headers.find((h) => h.name.toLowerCase() === name)?.value;
  const type = get('content-type') ?? 'text/plain';
  return {
    subject: get('subject') ?? '',
    from: addresses(get('from'))[0] ?? null,
    toRecipients: addresses(get('to')),
    ccRecipients: addresses(get('cc')),
    bccRecipients: addresses(get('bcc')),
    body: bodyOf(type, rest),
    headers: headers.filter((h) => /^x-/i.test(h.name)),
  };
}

function unfold(head: string): InternetMessageHeader[] {
  const out: InternetMessageHeader[] = [];
  for (const line of head.split(/\r?\n/)) {
    if (/^\s/.test(line) && out.length > 0) out[out.length - 1]!.value += ` ${line.trim()}`;
    else {
      const colon = line.indexOf(':');
      if (colon > 0) out.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
    }
  }
  return out;
}

function addresses(value: string | undefined): Recipient[] {
  if (!value) return [];
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => {
      const angled = /^(.*)<([^>]+)>$/.exec(part);
      const address = (angled ? angled[2]! : part).trim();
      const name = angled ? angled[1]!.trim().replace(/^"|"$/g, '') : address;
      return { emailAddress: { name: name || address, address } };
    });
}

function bodyOf(type: string, rest: string): ItemBody {
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    for (const part of rest.split(`--${boundary}`)) {
      const split = part.search(/\r?\n\r?\n/);
      if (split < 0) continue;
      const partType = /content-type:\s*([^;\r\n]+)/i.exec(part.slice(0, split))?.[1] ?? 'text/plain';
      if (/^text\/(plain|html)/i.test(partType)) return bodyOf(partType, part.slice(split).trim());
    }
    return { contentType: 'text', content: '' };
  }
  return { contentType: /html/i.test(type) ? 'html' : 'text', content: rest.trim() };
}
