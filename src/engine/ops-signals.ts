import { Counter, type Registry } from 'prom-client';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { LoopBlockReporter } from '../core/loop-block.js';
import type { AttemptAnswer } from '../http/client-options.js';
import { reuse } from '../resilience/resilience-metrics.js';
import type { Database } from '../store/database.js';
import { OpsSignalStore } from '../store/ops-signal-store.js';

/**
 * What crosses an operational threshold in this process — a handler or transform holding the event loop,
 * a connection answered 429 — counted in the metrics, logged at warn, and recorded in the store for
 * `patchbay doctor` (which runs in another process). A failed record is logged, never thrown.
 */
export function opsSignals(options: {
  database: Database;
  registry: Registry;
  logger: Logger;
  clock: Clock;
}) {
  const { registry, logger, clock } = options;
  const store = new OpsSignalStore(options.database);
  const blocks = reuse(
    registry,
    'patchbay_event_loop_blocks_total',
    () =>
      new Counter({
        name: 'patchbay_event_loop_blocks_total',
        help: 'Times an in-process handler or a sync page of transforms held the event loop over 50 ms, by subject',
        labelNames: ['subject'],
        registers: [registry],
      }),
  );
  const record = (kind: 'loop_block' | 'rate_limited', subject: string, value: number) =>
    void store.record(kind, subject, value, clock.now()).catch((err) => {
      logger.warn({ err, kind, subject }, 'could not record an operational signal');
    });
  const onLoopBlock: LoopBlockReporter = (subject, ms) => {
    blocks.inc({ subject });
    logger.warn({ subject, ms: Math.round(ms) }, `${subject} held the event loop ${Math.round(ms)} ms`);
    record('loop_block', subject, ms);
  };
  const onConnectionAttempt = (connectionId: string, answer: AttemptAnswer) => {
    if (answer.status === 429) record('rate_limited', `connection:${connectionId}`, 429);
  };
  return { onLoopBlock, onConnectionAttempt };
}
