import { createRequire } from 'node:module';
import type { SingleBar } from 'cli-progress';

// cli-progress (CommonJS) is required when a bar is drawn on a terminal, not when a command file loads.
const require = createRequire(import.meta.url);

/**
 * A progress bar on stderr for long work (replays, backfills, key rotation). On a non-TTY stderr
 * (CI, pipes) it prints a plain line every 10% instead of redrawing.
 */
export function progressBar(label: string): { update(done: number, total: number): void; stop(): void } {
  if (process.stderr.isTTY) {
    const { SingleBar: Bar } = require('cli-progress') as { SingleBar: typeof SingleBar };
    const bar = new Bar({
      format: `${label} [{bar}] {percentage}% | {value}/{total}`,
      stream: process.stderr,
      hideCursor: true,
    });
    let started = false;
    return {
      update(done, total) {
        if (!started) {
          bar.start(total, 0);
          started = true;
        }
        bar.setTotal(total);
        bar.update(done);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let lastDecile = -1;
  return {
    update(done, total) {
      const decile = total === 0 ? 10 : Math.floor((done / total) * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        process.stderr.write(
          `${label}: ${done}/${total} (${total === 0 ? 100 : Math.round((done / total) * 100)}%)\n`,
        );
      }
    },
    stop() {},
  };
}

/**
 * Progress of work whose total is unknown (a sync's first read): a count redrawn in place on a TTY,
 * a plain line at most every 2 s otherwise.
 */
export function progressCounter(label: string, unit: string): { update(done: number): void; stop(): void } {
  let last = 0;
  let shown = -1;
  let value = 0;
  const line = () => `${label}: ${value} ${unit}`;
  return {
    update(done) {
      value = done;
      const now = Date.now();
      if (process.stderr.isTTY) process.stderr.write(`\r${line()}`);
      else if (now - last >= 2000) {
        last = now;
        shown = value;
        process.stderr.write(`${line()}\n`);
      }
    },
    stop() {
      if (process.stderr.isTTY) process.stderr.write('\n');
      else if (shown !== value) process.stderr.write(`${line()}\n`);
    },
  };
}
