import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.js';
import { idFloor, idTime } from '../core/ids.js';
import type { Html } from './html.js';

/** Streams open at once in this process; more answer 503 (a hostile or forgetful client cannot pile them up). */
const MAX_TAILS = 16;
/** How often a tail looks for new rows, in ms. */
const POLL_MS = 1000;
/**
 * Ids are made before their transaction commits, so a row can become visible after a newer one: each
 * look goes this far back before the newest id sent and skips the ids it already sent.
 */
const LOOK_BACK_MS = 5000;
/** A comment now and then keeps proxies from closing an idle stream, in ms. */
const HEARTBEAT_MS = 15_000;
/** A stream ends after this long, in ms; the browser reconnects on its own from the last id it got. */
const MAX_LIFETIME_MS = 30 * 60_000;
/** Rows sent per look at most (the newest ones). */
export const TAIL_BATCH = 100;

export interface TailSource<T extends { id: string }> {
  /** The id prefix of the rows (`evt`, `dlv`). */
  prefix: string;
  /** Matching rows with ids at or above `floor`, newest first, at most TAIL_BATCH. */
  newer(floor: string): Promise<T[]>;
  row(item: T): Html;
}

/**
 * Live tails (server-sent events) of new rows of a list page: off until the page's button asks for one,
 * then a look at the store every second for rows after the last one sent, each sent as the same `<tr>`
 * the page renders. The event id is the row id, so a reconnecting browser (Last-Event-ID) misses nothing
 * still in the look-back.
 */
export class LiveTails {
  private readonly open = new Set<AbortController>();

  constructor(private readonly clock: Clock) {}

  get count(): number {
    return this.open.size;
  }

  async serve<T extends { id: string }>(
    request: FastifyRequest,
    reply: FastifyReply,
    after: string | undefined,
    source: TailSource<T>,
  ): Promise<void> {
    if (this.open.size >= MAX_TAILS) {
      return void reply
        .status(503)
        .header('retry-after', '30')
        .send({ error: `${MAX_TAILS} live tails are open in this process; close one` });
    }
    const abort = new AbortController();
    this.open.add(abort);
    request.raw.once('close', () => abort.abort());
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 3000\n\n');
    const started = this.clock.now();
    // Never older than where the page's list ended: those rows are on the page already.
    const from = after ?? idFloor(source.prefix, started);
    let last = from;
    let sent = new Set<string>();
    let quietSince = started;
    try {
      while (!abort.signal.aborted && this.clock.now() - started < MAX_LIFETIME_MS) {
        await this.clock.sleep(POLL_MS, abort.signal);
        const floor = idFloor(source.prefix, idTime(last) - LOOK_BACK_MS);
        const fresh = (await source.newer(floor)).filter((r) => r.id > from && !sent.has(r.id)).reverse();
        for (const row of fresh) {
          res.write(`id: ${row.id}\nevent: row\ndata: ${JSON.stringify({ html: source.row(row).text })}\n\n`);
          if (row.id > last) last = row.id;
        }
        if (fresh.length > 0) {
          // Only ids inside the look-back can come again.
          const keepFrom = idFloor(source.prefix, idTime(last) - LOOK_BACK_MS);
          sent = new Set([...sent, ...fresh.map((r) => r.id)].filter((id) => id >= keepFrom));
          quietSince = this.clock.now();
        } else if (this.clock.now() - quietSince >= HEARTBEAT_MS) {
          res.write(': still here\n\n');
          quietSince = this.clock.now();
        }
      }
    } catch (err) {
      if (!abort.signal.aborted) request.log.warn({ err }, 'dashboard live tail ended');
    } finally {
      this.open.delete(abort);
      res.end();
    }
  }

  /** Ends every stream (the server is closing). */
  stop(): void {
    for (const abort of this.open) abort.abort();
  }
}
