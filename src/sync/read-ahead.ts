/**
 * The pages of `source`, each fetched while the one before it is being committed: a page ahead, never
 * more, so memory stays one page plus the one in hand. A commit is mostly waiting for the disk and a
 * fetch mostly waiting for the network; side by side, a page costs the longer of the two, not their sum.
 * A page fetched ahead and never committed (a crash, an error) is fetched again by the next run, as
 * any uncommitted page is.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const pages = source[Symbol.asyncIterator]();
  let next = pages.next();
  // Its failure is seen when it is awaited; until then it must not count as unhandled.
  next.catch(() => undefined);
  let done = false;
  try {
    for (;;) {
      const current = await next;
      if (current.done) {
        done = true;
        return;
      }
      next = pages.next();
      next.catch(() => undefined);
      yield current.value;
    }
  } finally {
    // The consumer stopped early (an error, an abort): let the source close what it holds, after the
    // fetch in flight settles (an async generator queues `return` behind it).
    if (!done) await pages.return?.().catch(() => undefined);
  }
}
