import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ErrorCode } from '../../core/errors.js';
import { ulid } from '../../core/ids.js';

/**
 * An answer written straight to a socket, for the moments no request object exists (a connection refused
 * at the cap, headers that never completed, a request Node's parser refused): the API's error shape
 * `{ error: { code, message, requestId } }`, then the connection is closed.
 */
export function rawAnswer(
  status: number,
  code: string,
  message: string,
  headers: Readonly<Record<string, string>> = {},
): string {
  const body = JSON.stringify({ error: { code, message, requestId: ulid() } });
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${Buffer.byteLength(body)}`,
    'connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}

/**
 * Writes `answer` and closes. The incoming bytes are drained meanwhile: closing a socket with unread
 * data makes the kernel send a reset, and the client would never read the answer.
 */
export function answerAndClose(socket: Socket, answer: string): void {
  if (socket.destroyed) return;
  socket.resume();
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.end(answer);
  // A peer that never reads could keep the socket in FIN_WAIT forever: a last bound, off the request path.
  socket.setTimeout(1000, () => socket.destroy());
}

/**
 * The server's `clientError` handler: what Node's HTTP parser refused before any route ran (headers over
 * the size limit, a malformed request line) is answered in the API's error shape, not Fastify's.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) {
    socket.destroy();
    return;
  }
  if (err.code === 'HPE_HEADER_OVERFLOW') {
    answerAndClose(
      socket,
      rawAnswer(431, ErrorCode.HEADERS_TOO_LARGE, 'the request headers are larger than the server reads'),
    );
    return;
  }
  answerAndClose(
    socket,
    rawAnswer(
      400,
      ErrorCode.INVALID_ARGUMENT,
      `malformed HTTP request${typeof err.code === 'string' && /^HPE_\w+$/.test(err.code) ? ` (${err.code})` : ''}`,
    ),
  );
}
