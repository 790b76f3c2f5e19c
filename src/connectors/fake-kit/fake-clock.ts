/**
 * A fake provider's notion of time: the wall clock plus an offset that `/_fake/clock` moves, so a test
 * can make a token, a cursor or a subscription expire without waiting. Tasks scheduled on it (webhook
 * retries, subscription lapses) run when their time comes, whether time passes or is advanced.
 */
export class FakeProviderClock {
  private offsetMs = 0;
  /** The wall time the clock stopped at, while frozen. */
  private frozenAt: number | undefined;
  private tasks: { at: number; seq: number; run: () => void }[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly wall: () => number = Date.now) {}

  now(): number {
    return (this.frozenAt ?? this.wall()) + this.offsetMs;
  }

  /**
   * Stops time passing by itself: from now on only `advance` and `set` move it. For tests that count
   * per second or per minute and must not see a boundary pass while a slow machine runs them.
   */
  freeze(): void {
    this.frozenAt ??= this.wall();
  }

  /** Lets time pass again, from where it stands. */
  thaw(): void {
    if (this.frozenAt === undefined) return;
    this.offsetMs += this.frozenAt - this.wall();
    this.frozenAt = undefined;
    this.arm();
  }

  /** Moves the fake's time forward and runs every task that falls due on the way, in order. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`advance takes a number of ms ≥ 0, got ${ms}`);
    this.offsetMs += ms;
    this.runDue();
  }

  /** Sets the fake's time (forward or back); tasks now due run. */
  set(time: number): void {
    this.offsetMs = time - (this.frozenAt ?? this.wall());
    this.runDue();
  }

  /** Runs `run` once the fake's time reaches `at`. Returns a function that cancels it. */
  at(at: number, run: () => void): () => void {
    const task = { at, seq: this.seq++, run };
    this.tasks.push(task);
    this.tasks.sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.arm();
    return () => {
      this.tasks = this.tasks.filter((t) => t !== task);
      this.arm();
    };
  }

  /** Drops every scheduled task and the offset (`/_fake/reset`). */
  reset(): void {
    this.tasks = [];
    this.offsetMs = 0;
    this.frozenAt = undefined;
    this.arm();
  }

  close(): void {
    this.tasks = [];
    clearTimeout(this.timer);
  }

  private runDue(): void {
    const now = this.now();
    while (this.tasks[0] && this.tasks[0].at <= now) {
      const task = this.tasks.shift()!;
      try {
        task.run();
      } catch {
        // A task's failure is the task's business (it records it); the clock keeps going.
      }
    }
    this.arm();
  }

  private arm(): void {
    clearTimeout(this.timer);
    const next = this.tasks[0];
    if (!next) return;
    // Re-armed after every change; capped so an offset change is noticed within a second.
    this.timer = setTimeout(() => this.runDue(), Math.min(Math.max(0, next.at - this.now()), 1000));
    this.timer.unref();
  }
}
