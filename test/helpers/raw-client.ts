import { connect, type Socket } from 'node:net';

/** A client socket that keeps everything it receives, for tests that speak HTTP by hand. */
export interface RawClient {
  socket: Socket;
  /** Everything received so far, as text. */
  readonly received: string;
  /** Resolves once the server has closed (or reset) the connection. */
  closed: Promise<void>;
  readonly isClosed: boolean;
  write(text: string | Buffer): void;
}

/** Connects to 127.0.0.1:`port`, from `localAddress` when given (any 127.x address works on Linux). */
export async function rawConnect(port: number, localAddress?: string): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port, ...(localAddress && { localAddress }) });
  let received = '';
  let isClosed = false;
  socket.on('data', (chunk) => {
    received += String(chunk);
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) =>
    socket.once('close', () => {
      isClosed = true;
      resolve();
    }),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return {
    socket,
    get received() {
      return received;
    },
    get isClosed() {
      return isClosed;
    },
    closed,
    write: (text) => socket.write(text),
  };
}

/**
 * Waits for `condition` to hold, checking on each turn of the event loop for real I/O to happen (a
 * socket being accepted, bytes arriving); fails after `ms` of wall time with `what`.
 */
export async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The status line and the JSON body of a raw HTTP answer. */
export function parseAnswer(text: string): { status: number; headers: string; body: unknown } {
  const end = text.indexOf('\r\n\r\n');
  const head = text.slice(0, end);
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
  const raw = text.slice(end + 4);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    body = raw;
  }
  return { status, headers: head.toLowerCase(), body };
}
