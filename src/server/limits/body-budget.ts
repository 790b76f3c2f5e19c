import type { IncomingMessage } from 'node:http';
import type { preParsingAsyncHookHandler } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { answerAndClose, rawAnswer } from './raw-answer.js';

interface Reservation {
  bytes: number;
  request: IncomingMessage;
  /** `socket.bytesRead` when the body was reserved (its headers were in): progress is counted from here. */
  bytesAtStart: number;
}

/**
 * Memory for request bodies being received, shared by all requests: a request reserves its declared size
 * (or, sent chunked, its route's body limit) before a byte of its body is read, and gives it back when
 * its response ends. When the budget is full, a body still arriving is cut off (503) to make room: the one
 * that has sent the least so far, the oldest among equals (a sender's body arrives in milliseconds; a
 * trickle that reserved much and sent little goes before an upload that really sent its bytes). Only when
 * every reserved body is complete is the newcomer refused. So stalled uploads cannot pile up the server's
 * memory (200 stalled 3 MB bodies once held 600 MB), nor keep a webhook out.
 */
export class BodyBudget {
  private used = 0;
  /** Oldest first. */
  private readonly reservations = new Set<Reservation>();
  private readonly cut: Counter | undefined;

  constructor(
    readonly limit: number,
    registry?: Registry,
  ) {
    if (registry) {
      this.cut = new Counter({
        name: 'patchbay_http_bodies_cut_total',
        help: 'Request bodies cut off while still arriving, to make room in server.limits.inflightBodyLimit.',
        registers: [registry],
      });
    }
  }

  /** Bytes reserved now. */
  get inUse(): number {
    return this.used;
  }

  /** Reserves `bytes` for `request`, cutting off the oldest incomplete bodies if need be. */
  reserve(bytes: number, request: IncomingMessage): Reservation | undefined {
    if (bytes > this.limit) return undefined;
    while (this.used + bytes > this.limit) {
      const victim = this.slowestIncomplete();
      if (!victim) return undefined;
      this.release(victim);
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
    const reservation = { bytes, request, bytesAtStart: request.socket.bytesRead };
    this.reservations.add(reservation);
    this.used += bytes;
    return reservation;
  }

  release(reservation: Reservation): void {
    if (this.reservations.delete(reservation)) this.used -= reservation.bytes;
  }

  private slowestIncomplete(): Reservation | undefined {
    let slowest: Reservation | undefined;
    let least = Number.POSITIVE_INFINITY;
    for (const reservation of this.reservations) {
      const { request } = reservation;
      if (request.complete || request.socket.destroyed) continue;
      const sent = request.socket.bytesRead - reservation.bytesAtStart;
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
    const reservation = budget.reserve(chunked ? routeLimit : Math.min(declared, routeLimit), request.raw);
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
