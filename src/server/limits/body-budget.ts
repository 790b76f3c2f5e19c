import type { IncomingMessage } from 'node:http';
import type { preParsingAsyncHookHandler } from 'fastify';
import { Counter, Gauge, type Registry } from 'prom-client';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { answerAndClose, rawAnswer } from './raw-answer.js';

interface Reservation {
  bytes: number;
  request: IncomingMessage;
  /** `socket.bytesRead` when the body was reserved (its headers were in): progress is counted from here. */
  bytesAtStart: number;
}

/** A request waiting for room, oldest first. */
interface Waiter {
  bytes: number;
  request: IncomingMessage;
  grant: (reservation: Reservation) => void;
}

/**
 * Memory for request bodies being received, shared by all requests: a request reserves its declared size
 * (or, sent chunked, its route's body limit) before a byte of its body is read, and gives it back when
 * its response ends. When the budget is full, a body still arriving that reserved more than the newcomer
 * asks for is cut off (503) to make room: the one that has sent the least so far, the oldest among equals
 * (a sender's body arrives in milliseconds; a trickle that reserved much and sent little goes before an
 * upload that really sent its bytes). With no such body, the newcomer waits, unread, for room — its body
 * deadline (the connection supervisor's `bodyTimeout`) still runs. So stalled uploads cannot pile up the
 * server's memory (200 stalled 3 MB bodies once held 600 MB), nor keep a webhook (small) out, and
 * equally large trickles cannot cut each other off in turn: refused, each came back a second later
 * through the whole HTTP parser, and 1,250 of them kept the event loop busy (decision 0060).
 */
export class BodyBudget {
  private used = 0;
  /** Oldest first. */
  private readonly reservations = new Set<Reservation>();
  private readonly waiters = new Set<Waiter>();
  private readonly cut: Counter | undefined;

  constructor(
    readonly limit: number,
    registry?: Registry,
  ) {
    if (registry) {
      const waiters = this.waiters;
      this.cut = new Counter({
        name: 'patchbay_http_bodies_cut_total',
        help: 'Request bodies cut off while still arriving, to make room in server.limits.inflightBodyLimit.',
        registers: [registry],
      });
      new Gauge({
        name: 'patchbay_http_bodies_waiting',
        help: 'Requests whose body is not read yet: server.limits.inflightBodyLimit is full (each waits at most bodyTimeout).',
        registers: [registry],
        collect() {
          this.set(waiters.size);
        },
      });
    }
  }

  /** Bytes reserved now. */
  get inUse(): number {
    return this.used;
  }

  /** Requests waiting for room now. */
  get waiting(): number {
    return this.waiters.size;
  }

  /**
   * Reserves `bytes` for `request` at once if they fit, or by cutting off larger incomplete bodies;
   * `undefined` if not (yet).
   */
  tryReserve(bytes: number, request: IncomingMessage): Reservation | undefined {
    if (bytes > this.limit) return undefined;
    if (this.used + bytes > this.limit && this.used - this.cuttable(bytes) + bytes > this.limit) {
      return undefined;
    }
    while (this.used + bytes > this.limit) {
      const victim = this.slowestIncomplete(bytes);
      if (!victim) return undefined;
      // Freed for the newcomer, not for the waiters: it made the room.
      this.free(victim);
      this.cut?.inc();
      answerAndClose(
        victim.request.socket,
        rawAnswer(
          503,
          ErrorCode.OVERLOADED,
          'the server needed the memory of this slow request body; send it again',
          {
            'retry-after': '1',
          },
        ),
      );
    }
    return this.add(bytes, request);
  }

  /**
   * Reserves `bytes` for `request`, waiting for room when none can be made; `undefined` for more than
   * the whole budget, or when the request's connection closes while it waits.
   */
  reserve(bytes: number, request: IncomingMessage): Promise<Reservation | undefined> {
    const now = this.tryReserve(bytes, request);
    const { socket } = request;
    if (now || bytes > this.limit || socket.destroyed) return Promise.resolve(now);
    return new Promise((resolve) => {
      const gone = () => {
        this.waiters.delete(waiter);
        resolve(undefined);
      };
      const waiter: Waiter = {
        bytes,
        request,
        grant: (reservation) => {
          socket.off('close', gone);
          resolve(reservation);
        },
      };
      this.waiters.add(waiter);
      socket.once('close', gone);
    });
  }

  release(reservation: Reservation): void {
    if (!this.free(reservation)) return;
    // First come, first served: a large waiter is not overtaken for ever by smaller ones behind it.
    for (const waiter of this.waiters) {
      if (this.used + waiter.bytes > this.limit) break;
      this.waiters.delete(waiter);
      waiter.grant(this.add(waiter.bytes, waiter.request));
    }
  }

  private free(reservation: Reservation): boolean {
    if (!this.reservations.delete(reservation)) return false;
    this.used -= reservation.bytes;
    return true;
  }

  private add(bytes: number, request: IncomingMessage): Reservation {
    const reservation = { bytes, request, bytesAtStart: request.socket.bytesRead };
    this.reservations.add(reservation);
    this.used += bytes;
    return reservation;
  }

  /** Bytes of the incomplete bodies reserving more than `bytes`: what cutting off could free for it. */
  private cuttable(bytes: number): number {
    let total = 0;
    for (const r of this.reservations) if (this.canCut(r, bytes)) total += r.bytes;
    return total;
  }

  private canCut(reservation: Reservation, bytes: number): boolean {
    const { request } = reservation;
    return reservation.bytes > bytes && !request.complete && !request.socket.destroyed;
  }

  /** The incomplete body reserving more than `bytes` that has sent the least, the oldest among equals. */
  private slowestIncomplete(bytes: number): Reservation | undefined {
    let slowest: Reservation | undefined;
    let least = Number.POSITIVE_INFINITY;
    for (const reservation of this.reservations) {
      if (!this.canCut(reservation, bytes)) continue;
      const sent = reservation.request.socket.bytesRead - reservation.bytesAtStart;
      if (sent < least) {
        slowest = reservation;
        least = sent;
      }
    }
    return slowest;
  }
}

/** The `preParsing` hook that reserves each request's body in `budget`. */
export function reserveBody(budget: BodyBudget): preParsingAsyncHookHandler {
  return async (request, reply, payload) => {
    const { headers } = request;
    const chunked = headers['transfer-encoding'] !== undefined;
    const declared = chunked ? Number.NaN : Number(headers['content-length']);
    if (!chunked && !(declared > 0)) return payload;
    const routeLimit = request.routeOptions.bodyLimit ?? budget.limit;
    // More than the route reads is refused with 413 by the parser, without being read.
    const reservation = await budget.reserve(
      chunked ? routeLimit : Math.min(declared, routeLimit),
      request.raw,
    );
    if (!reservation) {
      reply.header('connection', 'close');
      throw new PatchbayError(
        ErrorCode.OVERLOADED,
        'the server is receiving as many request bodies as it holds at once; try again shortly',
        { retryAfterMs: 1000 },
      );
    }
    reply.raw.once('close', () => budget.release(reservation));
    return payload;
  };
}
