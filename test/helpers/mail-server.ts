import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** A message as the server received it: envelope, login and the raw RFC 5322 text. */
export interface ReceivedMail {
  from: string;
  to: string[];
  user: string | undefined;
  raw: string;
  /** Headers, unfolded, by lower-case name. */
  headers: Record<string, string>;
  /** The text body, quoted-printable decoded. */
  text: string;
}

/**
 * A real SMTP server on 127.0.0.1 (smtp-server, no TLS): logins are checked against `users`, every
 * message is kept, and `reply` can answer DATA with an error (a 451 to make the sender retry).
 */
export class MailServer {
  readonly received: ReceivedMail[] = [];
  /** Answers a message instead of accepting it: `{ code, message }` fails it with that reply. */
  reply: (() => { code: number; message: string } | undefined) | undefined;
  private server: SMTPServer | undefined;
  port = 0;

  constructor(private readonly users: Record<string, string> = {}) {}

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.server = new SMTPServer({
      logger: false,
      disabledCommands: ['STARTTLS'],
      authOptional: Object.keys(this.users).length === 0,
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth: (auth, _session, done) => {
        if (auth.username && this.users[auth.username] === auth.password) done(null, { user: auth.username });
        else done(Object.assign(new Error('Authentication failed'), { responseCode: 535 }));
      },
      onData: (stream, session: SMTPServerSession, done) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const failure = this.reply?.();
          if (failure) return done(Object.assign(new Error(failure.message), { responseCode: failure.code }));
          this.received.push(parse(Buffer.concat(chunks).toString('utf8'), session));
          done();
        });
      },
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

function parse(raw: string, session: SMTPServerSession): ReceivedMail {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = decodeWords(line.slice(colon + 1).trim());
  }
  let text = raw.slice(split + 4);
  if (/quoted-printable/i.test(headers['content-transfer-encoding'] ?? ''))
    text = Buffer.from(
      text
        .replace(/=\r\n/g, '')
        .replace(/=([0-9A-F]{2})/g, (_m, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))),
      'latin1',
    ).toString('utf8');
  return {
    from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    to: session.envelope.rcptTo.map((r) => r.address),
    user: session.user as string | undefined,
    raw,
    headers,
    text: text.replace(/\r\n/g, '\n'),
  };
}

/** RFC 2047 encoded words (`=?UTF-8?Q?…?=`, `=?UTF-8?B?…?=`), adjacent ones joined, as a mail client shows them. */
function decodeWords(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi, (_m, kind: string, text: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(
            text
              .replace(/_/g, ' ')
              .replace(/=([0-9A-F]{2})/gi, (_h, hex: string) =>
                String.fromCharCode(Number.parseInt(hex, 16)),
              ),
            'latin1',
          ).toString('utf8'),
    );
}
