import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { ErrorCode, errorMessage, isPatchbayError, truncateBody } from '../../../core/errors.js';
import { type Connector, createGuardedConnector } from '../../../http/ssrf/guarded-connector.js';
import type { Resolver } from '../../../http/ssrf/resolver.js';
import type { SsrfPolicy } from '../../../http/ssrf/ssrf-policy.js';
import { isOverloadSignal } from '../../../resilience/classification.js';
import type { AttemptResult } from '../http-sender.js';
import type { MailMessage } from './mail-message.js';
import { smtpPort } from './smtp-url.js';

/** The sender, recipients and login of an e-mail destination (`email:` in its config). */
export interface EmailSettings {
  from: string;
  to: readonly string[];
  username?: string;
  password?: string;
}

export interface MailRequest {
  /** `smtp://host[:port]` (STARTTLS) or `smtps://host[:port]` (TLS from the start). */
  url: URL;
  email: EmailSettings;
  message: MailMessage;
  /** Stable per event and destination: a retry that did arrive twice shows as one message in most clients. */
  messageId: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface MailSenderOptions {
  /** The deliveries' SSRF rule (`delivery.allowedNetworks`): the mail server's address passes it too. */
  policy: SsrfPolicy;
  resolver?: Resolver;
  /** Connects to an address the guard checked. Defaults to TCP (`smtp:`) or TLS (`smtps:`) to it. */
  connect?: Connector;
  now?: () => number;
}

/**
 * Sends one e-mail delivery attempt over SMTP with nodemailer. The connection is made by Patchbay, not
 * nodemailer: the server's name is resolved once, every address checked by the SSRF rule, and a checked
 * address dialed (`getSocket`) — the same guard as HTTP deliveries (decision 0117). TLS is required
 * (implicit for `smtps:`, STARTTLS for `smtp:`) unless the address is inside the allowed networks.
 * Failures become an `AttemptResult`, so retries, the breaker and the dead letters are the deliveries'.
 */
export class MailSender {
  private readonly now: () => number;

  constructor(private readonly options: MailSenderOptions) {
    this.now = options.now ?? Date.now;
  }

  async send(request: MailRequest): Promise<AttemptResult> {
    const started = this.now();
    const { url, email, message, timeoutMs } = request;
    const implicitTls = url.protocol === 'smtps:';
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    const port = smtpPort(url);
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    // Loaded by the first e-mail: commands and processes that send none do not load nodemailer.
    const { createTransport } = await import('nodemailer');
    const transport = createTransport({
      host: hostname,
      port,
      secure: implicitTls,
      ...(email.username !== undefined && {
        auth: { user: email.username, pass: email.password ?? '' },
      }),
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      tls: { servername: hostname },
      logger: false,
      debug: false,
      getSocket: (_options, callback) => {
        let dialed = '';
        const connect = this.options.connect ?? dial;
        const connector = createGuardedConnector({
          policy: this.options.policy,
          ...(this.options.resolver && { resolver: this.options.resolver }),
          connect: (options, done) => {
            dialed = options.hostname;
            connect(options, done);
          },
        });
        connector(
          { hostname, protocol: implicitTls ? 'smtps:' : 'smtp:', port: String(port), servername: hostname },
          (err, socket) => {
            if (err || !socket) return callback(err ?? new Error('no socket'), undefined);
            // Plain SMTP (no STARTTLS) only to an address the operator opened, as plain http.
            const inside = this.options.policy.classify(dialed).inAllowedNetwork;
            callback(null, {
              connection: socket as Socket,
              ...(implicitTls ? { secured: true } : { requireTLS: !inside }),
            });
          },
        );
      },
    });
    const result = (
      outcome: 'succeeded' | 'failed',
      errorCode: string | null,
      errorText: string | null,
      responseBody: string | null = null,
    ): AttemptResult => ({
      outcome,
      statusCode: null,
      responseHeaders: null,
      responseBody,
      errorCode,
      errorMessage: errorText,
      durationMs: this.now() - started,
      overloaded: isOverloadSignal({ statusCode: null, errorCode }),
      gone: false,
    });
    try {
      const info = await transport.sendMail({
        from: email.from,
        to: [...email.to],
        subject: message.subject,
        text: message.text,
        messageId: request.messageId,
        disableFileAccess: true,
        disableUrlAccess: true,
        signal,
      });
      return result('succeeded', null, null, truncateBody(String(info.response ?? ''), 2000));
    } catch (err) {
      if (timeout.aborted) return result('failed', ErrorCode.TIMEOUT, `no answer within ${timeoutMs} ms`);
      if (request.signal?.aborted) return result('failed', ErrorCode.ABORTED, 'aborted (shutting down)');
      const [code, text] = classifySmtpError(err);
      return result('failed', code, truncateBody(text, 2000));
    } finally {
      transport.close();
    }
  }
}

/** Connects to an address the guard checked: TLS from the start (`smtps:`) or plain TCP (`smtp:`). */
const dial: Connector = (options, callback) => {
  const port = Number(options.port);
  const socket =
    options.protocol === 'smtps:'
      ? tlsConnect({ host: options.hostname, port, servername: options.servername ?? options.hostname })
      : netConnect({ host: options.hostname, port });
  const ready = options.protocol === 'smtps:' ? 'secureConnect' : 'connect';
  const fail = (err: Error) => callback(err, null);
  socket.once('error', fail);
  socket.once(ready, () => {
    socket.off('error', fail);
    callback(null, socket);
  });
};

/**
 * What a failed send says, as an error code and a message: a reply of the server (`MAIL_REJECTED`, or
 * `AUTH_FAILED` for a refused login) with its text, a refusal of the guard with its own code, else a
 * transport failure. nodemailer's messages name the command and reply, never the password.
 */
function classifySmtpError(err: unknown): [string, string] {
  if (isPatchbayError(err)) return [err.code, err.message];
  const e = err as {
    code?: string;
    responseCode?: number;
    response?: string;
    command?: string;
    cause?: unknown;
  };
  if (isPatchbayError(e.cause)) return [e.cause.code, e.cause.message];
  if (e.code === 'EAUTH')
    return [ErrorCode.AUTH_FAILED, `SMTP login refused: ${e.response ?? errorMessage(err)}`];
  if (typeof e.responseCode === 'number' && e.responseCode >= 400)
    return [
      ErrorCode.MAIL_REJECTED,
      `SMTP ${e.response ?? e.responseCode}${e.command ? ` (answering ${e.command.split(' ')[0]})` : ''}`,
    ];
  if (e.code === 'ETIMEDOUT') return [ErrorCode.TIMEOUT, errorMessage(err)];
  return [ErrorCode.NETWORK_ERROR, e.code ? `${e.code}: ${errorMessage(err)}` : errorMessage(err)];
}
