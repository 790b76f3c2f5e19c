import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Clock } from '../../core/clock.js';
import { ErrorCode } from '../../core/errors.js';
import { addressKey } from './address-key.js';
import { answerAndClose, rawAnswer } from './raw-answer.js';

/** Time and count bounds on the server's connections (`server.limits` in the configuration). */
export interface ConnectionLimits {
  /** Complete request headers must arrive within this of connecting, in ms. */
  headersTimeoutMs: number;
  /** A request's whole body must arrive within this of its headers, in ms. */
  bodyTimeoutMs: number;
  /** A kept-alive connection must send its next headers within this (plus `headersTimeoutMs`), in ms. */
  keepAliveTimeoutMs: number;
  /** Open connections at most. */
  maxConnections: number;
  /** Open connections per client address (IPv6: per /64); `Infinity` for no cap. */
  maxConnectionsPerAddress: number;
}

/**
 * `headers`: no complete request yet; `body`: headers in, body arriving; `busy`: the request is whole and
 * being answered; `idle`: kept alive between two requests.
 */
type Phase = 'headers' | 'body' | 'busy' | 'idle';

interface Tracked {
  address: string;
  phase: Phase;
  /** When the current phase times out (ms, the supervisor's clock); Infinity when it cannot. */
  deadline: number;
  /** `socket.bytesRead` when the phase began: an idle connection that sent nothing is closed quietly. */
  bytesAtPhase: number;
  request: IncomingMessage | undefined;
  response: ServerResponse | undefined;
}

/** How often deadlines are checked, in ms: a timeout fires at most this late. */
const SWEEP_MS = 250;

/**
 * Bounds what a slow or hostile client can hold (docs/security.md, docs/decisions/0060-server-limits.md):
 *
 * - a connection is admitted or refused in the server's `connection` event, before Node's HTTP parser is
 *   attached to it: over `maxConnectionsPerAddress` it gets a 503 and is closed; at `maxConnections` the
 *   connection that has waited longest without a request in progress (silent, or idle between two) is
 *   closed to make room, and only if there is none is the new one refused;
 * - each connection's phase has a deadline (headers, body, keep-alive idle), checked every 250 ms on the
 *   injected clock; an expired one is answered 408 in the API's error shape (or closed quietly when it was
 *   idle and sent nothing) — whatever the client trickles, it cannot extend its deadline.
 *
 * Node's own header and request timeouts are turned off by the server (they are checked every 30 s by
 * default and know neither caps nor eviction); its keep-alive timer still closes idle sockets on time.
 */
export class ConnectionSupervisor {
  private readonly tracked = new Map<Socket, Tracked>();
  /** Connections without a request in progress, oldest first: the ones to close at the cap. */
  private readonly waiting = new Set<Socket>();
  private readonly perAddress = new Map<string, number>();
  private readonly stopped = new AbortController();
  private readonly refused: Counter<'reason'> | undefined;
  private readonly timedOut: Counter<'phase'> | undefined;

  constructor(
    private readonly limits: ConnectionLimits,
    private readonly clock: Clock,
    registry?: Registry,
  ) {
    if (registry) {
      const open = this.tracked;
      new Gauge({
        name: 'patchbay_http_connections',
        help: 'HTTP connections open now.',
        registers: [registry],
        collect() {
          this.set(open.size);
        },
      });
      this.refused = new Counter({
        name: 'patchbay_http_connections_refused_total',
        help: 'Connections closed at a cap: per_address (refused), capacity (refused), evicted (an older idle or silent one closed to make room).',
        labelNames: ['reason'] as const,
        registers: [registry],
      });
      this.timedOut = new Counter({
        name: 'patchbay_http_connections_timed_out_total',
        help: 'Connections closed for being slow, by phase (headers, body, idle).',
        labelNames: ['phase'] as const,
        registers: [registry],
      });
    }
  }

  /** Open connections now. */
  get size(): number {
    return this.tracked.size;
  }

  /** Takes over `server`'s connections: call before it listens. */
  attach(server: Server): void {
    // Node's HTTP machinery (the parser) is set up in its `connection` listeners: run them only for
    // connections that are admitted, so a refused one costs no parser.
    const listeners = server.listeners('connection') as ((socket: Socket) => void)[];
    server.removeAllListeners('connection');
    server.on('connection', (socket: Socket) => {
      if (!this.admit(socket)) return;
      for (const listener of listeners) listener.call(server, socket);
    });
    server.prependListener('request', (request: IncomingMessage, response: ServerResponse) =>
      this.onRequest(request, response),
    );
    server.once('listening', () => void this.sweepUntilStopped());
    server.once('close', () => this.stop());
  }

  stop(): void {
    this.stopped.abort();
  }

  /** Closes every connection without a request in progress (the server is closing). */
  closeWaiting(): void {
    for (const socket of [...this.waiting]) socket.destroy();
  }

  private admit(socket: Socket): boolean {
    const address = addressKey(socket.remoteAddress);
    const fromAddress = this.perAddress.get(address) ?? 0;
    if (fromAddress >= this.limits.maxConnectionsPerAddress) {
      this.refuse(socket, 'per_address', 'too many connections from this address');
      return false;
    }
    if (this.tracked.size >= this.limits.maxConnections) {
      const oldest = this.waiting.values().next();
      if (oldest.done) {
        this.refuse(socket, 'capacity', 'the server is at its connection limit');
        return false;
      }
      this.refused?.inc({ reason: 'evicted' });
      this.forget(oldest.value);
      oldest.value.destroy();
    }
    this.perAddress.set(address, fromAddress + 1);
    this.tracked.set(socket, {
      address,
      phase: 'headers',
      deadline: this.clock.now() + this.limits.headersTimeoutMs,
      bytesAtPhase: 0,
      request: undefined,
      response: undefined,
    });
    this.waiting.add(socket);
    socket.once('close', () => this.forget(socket));
    return true;
  }

  private refuse(socket: Socket, reason: 'per_address' | 'capacity', message: string): void {
    this.refused?.inc({ reason });
    answerAndClose(
      socket,
      rawAnswer(503, ErrorCode.OVERLOADED, `${message}; try again shortly`, { 'retry-after': '1' }),
    );
  }

  private onRequest(request: IncomingMessage, response: ServerResponse): void {
    const socket = request.socket;
    const t = this.tracked.get(socket);
    if (!t) return;
    this.waiting.delete(socket);
    t.phase = 'body';
    t.deadline = this.clock.now() + this.limits.bodyTimeoutMs;
    t.request = request;
    t.response = response;
    response.once('finish', () => this.onFinish(socket, response));
  }

  private onFinish(socket: Socket, response: ServerResponse): void {
    const t = this.tracked.get(socket);
    // A pipelined request may already have taken over the connection.
    if (!t || t.response !== response || socket.destroyed) return;
    t.phase = 'idle';
    t.deadline = this.clock.now() + this.limits.keepAliveTimeoutMs + this.limits.headersTimeoutMs;
    t.bytesAtPhase = socket.bytesRead;
    t.request = undefined;
    t.response = undefined;
    this.waiting.delete(socket);
    this.waiting.add(socket);
  }

  private forget(socket: Socket): void {
    const t = this.tracked.get(socket);
    if (!t) return;
    this.tracked.delete(socket);
    this.waiting.delete(socket);
    const left = (this.perAddress.get(t.address) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(t.address);
    else this.perAddress.set(t.address, left);
  }

  /** Closes the connections whose phase has run out of time. */
  sweep(): void {
    const now = this.clock.now();
    for (const [socket, t] of this.tracked) {
      if (now < t.deadline) continue;
      if (t.phase === 'body' && t.request?.complete) {
        // The body is all here; answering it is the handler's business (and bounded there).
        t.phase = 'busy';
        t.deadline = Number.POSITIVE_INFINITY;
        continue;
      }
      this.expire(socket, t);
    }
  }

  private expire(socket: Socket, t: Tracked): void {
    const phase = t.phase === 'busy' ? 'body' : t.phase;
    this.timedOut?.inc({ phase });
    this.forget(socket);
    const quiet = t.phase === 'idle' && socket.bytesRead === t.bytesAtPhase;
    if (quiet || t.response?.headersSent) {
      socket.destroy();
      return;
    }
    const what = t.phase === 'body' ? 'request body' : 'request headers';
    const limit = t.phase === 'body' ? this.limits.bodyTimeoutMs : this.limits.headersTimeoutMs;
    answerAndClose(
      socket,
      rawAnswer(408, ErrorCode.REQUEST_TIMEOUT, `the ${what} did not arrive within ${limit} ms`),
    );
  }

  private async sweepUntilStopped(): Promise<void> {
    const signal = this.stopped.signal;
    while (!signal.aborted) {
      try {
        await this.clock.sleep(SWEEP_MS, signal);
      } catch {
        return;
      }
      this.sweep();
    }
  }
}
